/** Base class of every error this library throws on purpose, so callers can tell them from bugs. */
export class SerTsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** @deprecated The base error's former name, kept for one release: use SerTsError. */
export const SerError = SerTsError;
/** @deprecated Use SerTsError. */
export type SerError = SerTsError;

/** A tensor had the wrong shape, rank or size for the operation. */
export class ShapeError extends SerTsError {}

/** An argument was outside its allowed range or of the wrong kind. */
export class ValueError extends SerTsError {}

/** A state dict or weights file does not match the module it is loaded into. */
export class StateDictError extends SerTsError {}

/** Autograd was asked for something it cannot do (e.g. backward on a non-scalar without a gradient). */
export class GradError extends SerTsError {}

export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
