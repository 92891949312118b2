/**
 * Which GL renderer gpu.js ended up on, and whether it is a GPU at all. Browsers and Mesa fall back
 * to renderers that draw on the CPU (SwiftShader, llvmpipe, softpipe, Windows' Basic Render
 * Driver); there gpu.js's kernels run 45–140 times slower than this library's CPU kernels, so
 * `auto` must not pick them.
 */

/** Renderer names of the software rasterisers in use today, as WEBGL_debug_renderer_info reports them. */
export const SOFTWARE_RENDERERS: readonly RegExp[] = [/swiftshader/i, /llvmpipe/i, /softpipe/i, /microsoft basic render/i, /software rasterizer/i, /\bsoftware\b/i];

export function isSoftwareRenderer(renderer: string): boolean {
  return SOFTWARE_RENDERERS.some((r) => r.test(renderer));
}

interface GlLike {
  getExtension(name: string): unknown;
  getParameter(p: number): unknown;
}
const UNMASKED_RENDERER_WEBGL = 0x9246;
const RENDERER = 0x1f01;

/** The renderer string of a WebGL (or headless-gl) context, unmasked where the extension allows; null if it is not one. */
export function glRenderer(context: unknown): string | null {
  const gl = context as GlLike | null;
  if (!gl || typeof gl.getParameter !== 'function') return null;
  try {
    const unmasked = gl.getExtension('WEBGL_debug_renderer_info') ? gl.getParameter(UNMASKED_RENDERER_WEBGL) : null;
    const name = unmasked ?? gl.getParameter(RENDERER);
    return typeof name === 'string' ? name : null;
  } catch {
    return null;
  }
}
