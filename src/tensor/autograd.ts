/**
 * Reverse-mode autograd in the micrograd style: every op that may need a gradient attaches a
 * GradNode to its output, holding its inputs and a closure that maps the output's gradient to
 * theirs. `backward` walks the graph once in reverse topological order.
 */
import { GradError, fmtShape } from './errors.js';
import type { Tensor } from './tensor.js';

export interface GradNode {
  op: string;
  /** Inputs in the order `backward` returns their gradients; null for an absent optional input. */
  parents: readonly (Tensor | null)[];
  /** Gradients for each parent (null where a parent needs none); runs with recording off. */
  backward(gradOut: Tensor): readonly (Tensor | null)[];
}

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn with gradient recording off (inference, optimiser updates), as torch.no_grad(). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // iterative DFS: a deep graph (a long training unroll) must not overflow the JS stack
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [t, i] = top;
    const parents = t._node?.parents ?? [];
    if (i < parents.length) {
      top[1] = i + 1;
      const p = parents[i];
      if (p && p.requiresGrad && !seen.has(p)) {
        seen.add(p);
        stack.push([p, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order.reverse();
}

/**
 * Accumulates d(root)/d(leaf) into `.grad` of every leaf that requires a gradient. `gradient` is
 * needed unless root is a scalar (then it is 1).
 */
export function backward(root: Tensor, gradient: Tensor | null, ones: (like: Tensor) => Tensor, add: (a: Tensor, b: Tensor) => Tensor): void {
  if (!root.requiresGrad) {
    throw new GradError('backward: this tensor does not require grad (no input had requiresGrad, or it was made under noGrad)');
  }
  if (!gradient && root.size !== 1) {
    throw new GradError(`backward: a gradient must be given for a non-scalar output of shape ${fmtShape(root.shape)}`);
  }
  if (gradient && gradient.size !== root.size) {
    throw new GradError(`backward: gradient of shape ${fmtShape(gradient.shape)} does not match output ${fmtShape(root.shape)}`);
  }
  noGrad(() => {
    const grads = new Map<Tensor, Tensor>();
    grads.set(root, gradient ? gradient.reshape(root.shape) : ones(root));
    for (const t of topologicalOrder(root)) {
      const g = grads.get(t);
      if (!g) continue;
      grads.delete(t); // free as we go: activations' gradients are the largest buffers
      const node = t._node;
      if (!node) {
        t.grad = t.grad ? add(t.grad, g) : g;
        continue;
      }
      const pg = node.backward(g);
      node.parents.forEach((p, i) => {
        const gi = pg[i];
        if (!gi || !p || !p.requiresGrad) return;
        const prev = grads.get(p);
        grads.set(p, prev ? add(prev, gi) : gi);
      });
    }
  });
}
