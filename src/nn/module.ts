import { StateDictError, fmtShape } from '../tensor/errors.js';
import { backendByName } from '../tensor/backend.js';
import { noGrad } from '../tensor/autograd.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * Base class of layers and models, shaped after torch.nn.Module: parameters and buffers are
 * registered by name, sub-modules are found among the instance's own fields (in declaration order)
 * or registered explicitly, and `stateDict()` uses PyTorch's dotted key names so weights move
 * between the two.
 */
export abstract class Module {
  training = true;
  private readonly _params = new Map<string, Tensor>();
  private readonly _buffers = new Map<string, Tensor>();
  private readonly _children = new Map<string, Module>();

  abstract forward(x: Tensor): Tensor;

  /** Registers a trainable tensor under `name` (marks it requiresGrad). */
  protected registerParameter(name: string, t: Tensor): Tensor {
    t.requiresGrad = true;
    this._params.set(name, t);
    return t;
  }

  /** Registers state that is saved but not trained (e.g. running statistics). */
  protected registerBuffer(name: string, t: Tensor): Tensor {
    this._buffers.set(name, t);
    return t;
  }

  /** Registers a child under an explicit name (fields holding modules are found on their own). */
  protected registerModule(name: string, m: Module): Module {
    this._children.set(name, m);
    return m;
  }

  /** Direct children with their names. */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [...this._children];
    const seen = new Set<Module>(this._children.values());
    for (const [k, v] of Object.entries(this)) {
      if (v instanceof Module && !seen.has(v) && !k.startsWith('_')) {
        seen.add(v);
        out.push([k, v]);
      }
    }
    return out;
  }

  /** This module and all descendants, depth first, with dotted names ('' for this one). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.namedChildren()) out.push(...child.namedModules(prefix ? `${prefix}.${name}` : name));
    return out;
  }

  namedParameters(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [k, t] of m._params) out.push([prefix ? `${prefix}.${k}` : k, t]);
    }
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  namedBuffers(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [k, t] of m._buffers) out.push([prefix ? `${prefix}.${k}` : k, t]);
    }
    return out;
  }

  /**
   * Moves every parameter and buffer to the named backend, in place (like PyTorch's `module.to`),
   * so that a model built before `setBackend` can run there. Create optimisers after moving.
   */
  to(backendName: string): this {
    const b = backendByName(backendName);
    for (const [, t] of [...this.namedParameters(), ...this.namedBuffers()]) t._moveTo(b);
    return this;
  }

  /** Sets training mode here and below (dropout active, batch norm on batch statistics). */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Parameters and buffers by PyTorch key, in PyTorch's order (per module: params, buffers, then children). */
  stateDict(): Record<string, Tensor> {
    const sd: Record<string, Tensor> = Object.create(null); // keys are names, never Object.prototype's
    for (const [prefix, m] of this.namedModules()) {
      const key = (k: string) => (prefix ? `${prefix}.${k}` : k);
      for (const [k, t] of m._params) sd[key(k)] = t.detach();
      for (const [k, t] of m._buffers) sd[key(k)] = t.detach();
    }
    return sd;
  }

  /**
   * Copies values from `sd` into this module's tensors. With `strict` (the default) every key must
   * match and nothing may be extra; shapes must always match. Nothing is changed unless all checks pass.
   */
  loadStateDict(sd: Record<string, Tensor>, opts: { strict?: boolean } = {}): void {
    const strict = opts.strict ?? true;
    const own = this.stateDict();
    const targets = new Map([...this.namedParameters(), ...this.namedBuffers()]);
    // own keys only: a name such as 'constructor' or '__proto__' is a key like any other
    const has = (o: object, k: string) => Object.hasOwn(o, k);
    const missing = Object.keys(own).filter((k) => !has(sd, k));
    const unexpected = Object.keys(sd).filter((k) => !has(own, k));
    const misshaped = Object.keys(sd)
      .filter((k) => has(own, k) && sizeMismatch(own[k]!, sd[k]!))
      .map((k) => `${k}: expected ${fmtShape(own[k]!.shape)}, got ${fmtShape(sd[k]!.shape)}`);
    const problems: string[] = [];
    if (misshaped.length) problems.push(`shape mismatch: ${misshaped.join('; ')}`);
    if (strict && missing.length) problems.push(`missing keys: ${missing.join(', ')}`);
    if (strict && unexpected.length) problems.push(`unexpected keys: ${unexpected.join(', ')}`);
    if (problems.length) throw new StateDictError(`loadStateDict: ${problems.join('. ')}`);
    noGrad(() => {
      for (const [k, src] of Object.entries(sd)) {
        const dst = targets.get(k);
        if (dst) dst._assign(dst._backend.fromArray(src.toArray()));
      }
    });
  }

  /** Calls every parameter's gradient away (PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }
}

/** Same shape, except that a PyTorch scalar (shape []) and a one-element tensor are interchangeable. */
function sizeMismatch(a: Tensor, b: Tensor): boolean {
  if (a.size === 1 && b.size === 1) return false;
  return a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i]);
}
