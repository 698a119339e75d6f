/**
 * The realtime floor: a bare `node:http` SSE server doing the least any server must do to fan a
 * write out — accept the stream (`PB_CONNECT` with an `id:` line, as Basalt), accept the
 * subscription POST, and on a record POST write the same `{action, record}` frame to every open
 * stream. No database, no rule, no expansion: the ratio to it is Basalt's whole cost.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';

const port = Number(process.env.FLOOR_PORT);
const streams = new Map<ServerResponse, string>();

function readBody(req: import('node:http').IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => resolve(body));
  });
}

const server = createServer(async (req, res) => {
  const url = req.url ?? '';
  if (req.method === 'GET' && url === '/api/health') return res.writeHead(200, { 'content-type': 'application/json' }).end('{"code":200}');
  if (req.method === 'GET' && url === '/api/realtime') {
    const id = randomBytes(20).toString('hex');
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    res.write(`id:${id}\nevent:PB_CONNECT\ndata:${JSON.stringify({ clientId: id })}\n\n`);
    streams.set(res, id);
    res.on('close', () => streams.delete(res));
    return;
  }
  if (req.method === 'POST' && url === '/api/realtime') {
    await readBody(req);
    return res.writeHead(204).end();
  }
  if (req.method === 'POST' && url.startsWith('/api/collections/posts/records')) {
    const body = JSON.parse(await readBody(req));
    const record = { collectionId: 'posts', collectionName: 'posts', id: randomBytes(8).toString('hex'), ...body };
    const data = JSON.stringify({ action: 'create', record });
    for (const [stream, id] of streams) stream.write(`id:${id}\nevent:posts/*\ndata:${data}\n\n`);
    return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(record));
  }
  res.writeHead(404).end();
});

server.listen(port, '127.0.0.1', () => console.log(`floor-realtime listening on ${port}`));
process.on('SIGTERM', () => {
  for (const s of streams.keys()) s.destroy();
  server.close(() => process.exit(0));
});
