/**
 * A minimal Server-Sent Events reader for tests: connects to `/api/realtime` over a real socket,
 * parses frames as the EventSource spec does (id/event/data lines), and lets a test wait for the
 * next message matching a predicate.
 */
export interface SseMessage {
  id: string;
  event: string;
  data: string;
}

export interface SseConnection {
  clientId: string;
  messages: SseMessage[];
  /** Waits for a message (not yet consumed) matching `match`, and consumes it. */
  next(match?: (m: SseMessage) => boolean, timeoutMs?: number): Promise<SseMessage>;
  /** Resolves once no matching message arrives within `ms` (asserts silence). */
  none(match?: (m: SseMessage) => boolean, ms?: number): Promise<void>;
  closed: Promise<void>;
  close(): void;
}

export async function openSse(baseUrl: string, headers: Record<string, string> = {}): Promise<SseConnection> {
  const controller = new AbortController();
  const res = await fetch(`${baseUrl}/api/realtime`, { headers, signal: controller.signal });
  if (!res.ok || !res.body) throw new Error(`SSE connect failed: ${res.status}`);
  const messages: SseMessage[] = [];
  const waiters: (() => void)[] = [];
  const notify = () => waiters.splice(0).forEach((w) => w());
  let buffer = '';
  let lastId = '';
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  const closed = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of frame.split('\n')) {
            const colon = line.indexOf(':');
            const field = colon === -1 ? line : line.slice(0, colon);
            const val = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'id') lastId = val;
            else if (field === 'event') event = val;
            else if (field === 'data') data.push(val);
          }
          messages.push({ id: lastId, event, data: data.join('\n') });
          notify();
        }
      }
    } catch {
      // aborted
    }
    notify();
  })();
  let taken = new Set<SseMessage>();
  const find = (match: (m: SseMessage) => boolean) => messages.find((m) => !taken.has(m) && match(m));
  const conn: SseConnection = {
    clientId: '',
    messages,
    async next(match = () => true, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = find(match);
        if (m) {
          taken.add(m);
          return m;
        }
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no SSE message in ${timeoutMs} ms; got ${JSON.stringify(messages.map((x) => x.event))}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
    async none(match = () => true, ms = 300) {
      await new Promise((r) => setTimeout(r, ms));
      const m = find(match);
      if (m) throw new Error(`unexpected SSE message ${m.event}: ${m.data}`);
    },
    closed,
    close() {
      controller.abort();
      taken = new Set();
    },
  };
  const connect = await conn.next((m) => m.event === 'PB_CONNECT');
  conn.clientId = connect.id;
  return conn;
}
