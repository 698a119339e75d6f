/**
 * Load generation: autocannon's programmatic API in this (parent) process, over loopback,
 * keep-alive connections, pipelining 1. Each request is produced by the scenario's `next()`,
 * so ids and bodies vary across requests.
 */
import autocannon, { type Instance, type Result } from 'autocannon';

export interface LoadRequest {
  method: 'GET' | 'POST';
  path: string;
  /** JSON text; sent with Content-Type: application/json. */
  body?: string;
  headers?: Record<string, string>;
}

export interface LoadOptions {
  url: string;
  connections: number;
  seconds: number;
  next: () => LoadRequest;
}

export interface LoadResult {
  /** Mean of autocannon's per-second samples. */
  reqPerSec: number;
  /** Latencies in milliseconds, from the first byte sent to the last byte received. */
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
}

let current: Instance | null = null;

/** Stops the run in progress (Ctrl-C): it resolves early with what it measured. */
export function stopLoad(): void {
  current?.stop();
}

/** The q-quantile (nearest rank) of `sorted`. */
function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

function summarize(r: Result, latencies: number[]): LoadResult {
  const statusCodes: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(r.statusCodeStats ?? {})) statusCodes[code] = Number(count);
  const sorted = Float64Array.from(latencies).sort();
  return {
    reqPerSec: r.requests.average,
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    requests: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    statusCodes,
  };
}

export function runLoad(options: LoadOptions): Promise<LoadResult> {
  // NB: autocannon's own latency histogram holds whole milliseconds (p50 of a 0.4 ms getOne
  // would read 0 ms); its 'response' event carries the hrtime duration, kept here instead.
  const latencies: number[] = [];
  return new Promise((resolve, reject) => {
    current = autocannon(
      {
        url: options.url,
        connections: options.connections,
        pipelining: 1,
        duration: options.seconds,
        requests: [
          {
            setupRequest(request) {
              const next = options.next();
              request.method = next.method;
              request.path = next.path;
              if (next.body !== undefined) {
                request.body = next.body;
                request.headers = { ...request.headers, 'content-type': 'application/json' };
              }
              if (next.headers) request.headers = { ...request.headers, ...next.headers };
              return request;
            },
          },
        ],
      },
      (err, result) => {
        current = null;
        if (err) reject(err);
        else resolve(summarize(result, latencies));
      },
    );
    current.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => latencies.push(responseTime));
  });
}
