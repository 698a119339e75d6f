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
  /** A mix's kind of request (bench/large.ts): the result then has figures per tag too. */
  tag?: string;
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
  /** Per LoadRequest.tag, when requests carry one: the run's req/s split by their share of the answers. */
  byTag?: Record<string, TagResult>;
}

export interface TagResult {
  reqPerSec: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
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

/** Answers of one tag: latency and status of each. */
type TagSamples = { latencies: number[]; non2xx: number };

function summarizeTags(reqPerSec: number, tags: Map<string, TagSamples>): Record<string, TagResult> | undefined {
  if (tags.size === 0) return undefined;
  const answered = [...tags.values()].reduce((n, t) => n + t.latencies.length, 0);
  const out: Record<string, TagResult> = {};
  for (const [tag, t] of tags) {
    const sorted = Float64Array.from(t.latencies).sort();
    out[tag] = { reqPerSec: answered > 0 ? (reqPerSec * sorted.length) / answered : 0, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), requests: sorted.length, non2xx: t.non2xx };
  }
  return out;
}

function summarize(r: Result, latencies: number[], tags: Map<string, TagSamples>): LoadResult {
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
    byTag: summarizeTags(r.requests.average, tags),
  };
}

export function runLoad(options: LoadOptions): Promise<LoadResult> {
  // NB: autocannon's own latency histogram holds whole milliseconds (p50 of a 0.4 ms getOne
  // would read 0 ms); its 'response' event carries the hrtime duration, kept here instead.
  const latencies: number[] = [];
  // A request's tag travels in autocannon's per-connection context, which is fresh for each
  // request and still that request's when its answer arrives (pipelining 1): onResponse reads
  // it, and the 'response' event that follows at once, in the same call, takes the latency.
  const tags = new Map<string, TagSamples>();
  let answered: TagSamples | null = null;
  return new Promise((resolve, reject) => {
    current = autocannon(
      {
        url: options.url,
        connections: options.connections,
        pipelining: 1,
        duration: options.seconds,
        requests: [
          {
            setupRequest(request, context) {
              const next = options.next();
              context.tag = next.tag;
              request.method = next.method;
              request.path = next.path;
              if (next.body !== undefined) {
                request.body = next.body;
                request.headers = { ...request.headers, 'content-type': 'application/json' };
              }
              if (next.headers) request.headers = { ...request.headers, ...next.headers };
              return request;
            },
            onResponse(status, _body, context) {
              const tag = context.tag as string | undefined;
              if (tag === undefined) return;
              let samples = tags.get(tag);
              if (!samples) tags.set(tag, (samples = { latencies: [], non2xx: 0 }));
              if (status < 200 || status > 299) samples.non2xx++;
              answered = samples;
            },
          },
        ],
      },
      (err, result) => {
        current = null;
        if (err) reject(err);
        else resolve(summarize(result, latencies, tags));
      },
    );
    current.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
      latencies.push(responseTime);
      answered?.latencies.push(responseTime);
      answered = null;
    });
  });
}
