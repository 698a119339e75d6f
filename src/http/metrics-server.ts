/**
 * `--metrics-http`: the metrics on an address of their own, at `GET /metrics`, without a token —
 * what a Kubernetes pod annotation or a sidecar scraper expects. The address is meant to be
 * private (loopback, a pod network); the API address is not involved, so the metrics never need
 * to be exposed to the API's clients. A bare node:http server: nothing else is served here, and
 * scrapes cost none of the API's hooks.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { App } from '../core/app.js';
import { ApiError } from '../core/errors.js';

export interface MetricsServer {
  /** The base URL it listens on. */
  readonly url: string;
  close(): Promise<void>;
}

function sendError(res: import('node:http').ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(new ApiError(status).toJSON()));
}

export async function startMetricsServer(app: App, address: { host: string; port: number }): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics' && path !== '/api/metrics') return sendError(res, 404);
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, { allow: 'GET, HEAD' });
    app.metrics.render().then(
      ({ contentType, body }) => {
        res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : body);
      },
      (err: unknown) => {
        app.logger.error({ err }, 'metrics: rendering failed');
        sendError(res, 500);
      },
    );
  });
  // A scraper answers within seconds; nothing here may hold a socket longer.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  return {
    url: `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
