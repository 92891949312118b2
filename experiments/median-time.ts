/** The median wall time of `n` calls of `f` after `warm` untimed ones, in ms (the experiments' timer). */
export function medianMs(f: () => void, n: number, warm: number): number {
  for (let i = 0; i < warm; i++) f();
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = performance.now();
    f();
    t.push(performance.now() - a);
  }
  return t.sort((a, b) => a - b)[n >> 1]!;
}
