/**
 * The benchmarked requests and their targets (Basalt's throughput as a share of the floor's),
 * from the issues. Record requests are a guest's (no Authorization header); auth-refresh sends
 * a user's token.
 */
import { USER_PASSWORD, type Dataset } from './dataset.js';
import type { LoadRequest } from './load.js';

export type ScenarioId = 'getOne' | 'list' | 'list-skipTotal' | 'create' | 'auth-with-password' | 'auth-refresh';

export interface Scenario {
  id: ScenarioId;
  description: string;
  /** Minimum Basalt/floor req/s ratio. */
  target: number;
  /** Writes records: run after the reads, so both servers read the same rows. */
  writes: boolean;
  /** How Basalt's and the floor's sample answers must agree (tokens and new ids differ by nature). */
  compare: 'exact' | 'shape';
  /** A fresh request generator; the n-th request is the same for Basalt and for the floor. */
  requests(data: Dataset): () => LoadRequest;
}

const RECORDS = '/api/collections/posts/records';

function counter(): () => number {
  let n = 0;
  return () => n++;
}

export const SCENARIOS: readonly Scenario[] = [
  {
    id: 'getOne',
    description: 'GET /records/{id}, viewRule "", ids cycling over the dataset',
    target: 0.7,
    writes: false,
    compare: 'exact',
    requests(data) {
      const next = counter();
      return () => ({ method: 'GET', path: `${RECORDS}/${data.postIds[next() % data.postIds.length]}` });
    },
  },
  {
    id: 'list',
    description: 'GET /records?sort=-rank&perPage=20 under the list rule, with the count',
    target: 0.5,
    writes: false,
    compare: 'exact',
    requests: () => () => ({ method: 'GET', path: `${RECORDS}?sort=-rank&perPage=20` }),
  },
  {
    id: 'list-skipTotal',
    description: 'the same list with skipTotal=1 (no count query)',
    target: 0.5,
    writes: false,
    compare: 'exact',
    requests: () => () => ({ method: 'GET', path: `${RECORDS}?sort=-rank&perPage=20&skipTotal=1` }),
  },
  {
    id: 'create',
    description: 'POST /records {title, rank, status, author}, createRule ""',
    target: 0.6,
    writes: true,
    compare: 'shape',
    requests(data) {
      const next = counter();
      return () => {
        const n = next();
        const body = { title: `Bench post ${n}`, rank: 1_000_000 + n, status: 'public', author: data.userIds[n % data.userIds.length] };
        return { method: 'POST', path: RECORDS, body: JSON.stringify(body) };
      };
    },
  },
  {
    id: 'auth-with-password',
    description: 'POST /users/auth-with-password, users cycling (bcrypt cost 10 verify, token signed)',
    target: 0.8,
    writes: false,
    compare: 'shape',
    requests(data) {
      const next = counter();
      return () => {
        const identity = data.userEmails[next() % data.userEmails.length];
        return { method: 'POST', path: '/api/collections/users/auth-with-password', body: JSON.stringify({ identity, password: USER_PASSWORD }) };
      };
    },
  },
  {
    id: 'auth-refresh',
    description: 'POST /users/auth-refresh with a user token (verify, record lookup, new token)',
    target: 0.6,
    writes: false,
    compare: 'shape',
    requests(data) {
      const next = counter();
      return () => ({ method: 'POST', path: '/api/collections/users/auth-refresh', headers: { authorization: data.userTokens[next() % data.userTokens.length] } });
    },
  },
];
