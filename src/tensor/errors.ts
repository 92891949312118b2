/** Base class of every error this library throws on purpose, so callers can tell them from bugs. */
export class SerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A tensor had the wrong shape, rank or size for the operation. */
export class ShapeError extends SerError {}

/** An argument was outside its allowed range or of the wrong kind. */
export class ValueError extends SerError {}

/** A state dict or weights file does not match the module it is loaded into. */
export class StateDictError extends SerError {}

/** Autograd was asked for something it cannot do (e.g. backward on a non-scalar without a gradient). */
export class GradError extends SerError {}

export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
