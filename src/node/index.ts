/**
 * Node-only helpers: worker threads for the CPU kernels, and file access. Import from
 * 'ser-ts/node'; the main entry stays free of Node built-ins so it also runs in browsers.
 */
export { enableThreads, disableThreads, ThreadError } from './threads.js';
