/**
 * Many SSE subscribers in the bench process, on raw sockets (an EventSource per connection
 * would cost the client more than the server): each opens `/api/realtime`, reads its client id
 * from `PB_CONNECT`, subscribes, and notes when a frame containing the current round's marker
 * arrives.
 */
import { connect, type Socket } from 'node:net';

export interface Swarm {
  size: number;
  /**
   * Arms every subscriber to wait for `marker` (call it before the write); resolves with each
   * one's arrival time (performance.now()) once all have it, or after `timeoutMs`.
   */
  arm(marker: string, timeoutMs: number): Promise<{ arrivals: number[]; missing: number }>;
  close(): void;
}

const CONNECT_BATCH = 200;

function openOne(port: number): Promise<{ socket: Socket; clientId: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    let head = '';
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      const m = /id:([A-Za-z0-9]+)\nevent:PB_CONNECT/.exec(head);
      if (!m) return;
      socket.off('data', onData);
      resolve({ socket, clientId: m[1] });
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(`GET /api/realtime HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`);
  });
}

export async function openSwarm(port: number, count: number, subscriptions: string[]): Promise<Swarm> {
  const members: { socket: Socket; clientId: string }[] = [];
  for (let i = 0; i < count; i += CONNECT_BATCH) {
    const batch = await Promise.all(Array.from({ length: Math.min(CONNECT_BATCH, count - i) }, () => openOne(port)));
    await Promise.all(
      batch.map(async (m) => {
        const res = await fetch(`http://127.0.0.1:${port}/api/realtime`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ clientId: m.clientId, subscriptions }),
        });
        if (res.status !== 204) throw new Error(`subscribe answered ${res.status}: ${await res.text()}`);
      }),
    );
    members.push(...batch);
  }
  let marker = '';
  let arrivals: number[] = [];
  let pending = 0;
  let done: (() => void) | null = null;
  const got = new Set<Socket>();
  for (const { socket } of members) {
    socket.on('data', (chunk: Buffer) => {
      if (!marker || got.has(socket)) return;
      if (chunk.indexOf(marker, 0, 'latin1') === -1) return;
      arrivals.push(performance.now());
      got.add(socket);
      if (--pending === 0) done?.();
    });
    socket.on('error', () => {});
  }
  return {
    size: members.length,
    arm(next, timeoutMs) {
      marker = next;
      arrivals = [];
      got.clear();
      pending = members.length;
      return new Promise((resolve) => {
        const finish = () => {
          clearTimeout(timer);
          done = null;
          resolve({ arrivals, missing: pending });
        };
        const timer = setTimeout(finish, timeoutMs);
        done = finish;
      });
    },
    close() {
      for (const { socket } of members) socket.destroy();
    },
  };
}
