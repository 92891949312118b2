/**
 * Serves the built web app (examples/web/dist) on localhost. A page on localhost counts as secure,
 * so the microphone and the service worker work without https.
 *
 *   npm run web:serve [-- --port 8080]
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DIST } from './build.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.map': 'application/json', '.safetensors': 'application/octet-stream', '.wav': 'audio/wav',
};

/** A static file server for `root` on 127.0.0.1; port 0 picks a free one. */
export function serve(root = DIST, port = 8080): Promise<Server> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    if (!file.startsWith(root + sep) && file !== root) return void res.writeHead(403).end('forbidden');
    if (!existsSync(file) || !statSync(file).isFile()) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (!existsSync(join(DIST, 'index.html'))) {
    console.error('examples/web/dist is not built: run npm run web:build first');
    process.exit(1);
  }
  const i = process.argv.indexOf('--port');
  const port = i > 0 ? Number(process.argv[i + 1]) : 8080;
  const server = await serve(DIST, port);
  const address = server.address() as { port: number };
  console.log(`the app is at http://localhost:${address.port}/ (Ctrl-C stops)`);
}
