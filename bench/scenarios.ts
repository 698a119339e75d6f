/**
 * The benchmarked requests and their targets (Basalt's throughput as a share of the floor's),
 * from the issue. All requests are a guest's: no Authorization header.
 */
import type { Dataset } from './dataset.js';
import type { LoadRequest } from './load.js';

export type ScenarioId = 'getOne' | 'list' | 'list-skipTotal' | 'create';

export interface Scenario {
  id: ScenarioId;
  description: string;
  /** Minimum Basalt/floor req/s ratio. */
  target: number;
  /** Writes records: run after the reads, so both servers read the same rows. */
  writes: boolean;
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
    requests: () => () => ({ method: 'GET', path: `${RECORDS}?sort=-rank&perPage=20` }),
  },
  {
    id: 'list-skipTotal',
    description: 'the same list with skipTotal=1 (no count query)',
    target: 0.5,
    writes: false,
    requests: () => () => ({ method: 'GET', path: `${RECORDS}?sort=-rank&perPage=20&skipTotal=1` }),
  },
  {
    id: 'create',
    description: 'POST /records {title, rank, status, author}, createRule ""',
    target: 0.6,
    writes: true,
    requests(data) {
      const next = counter();
      return () => {
        const n = next();
        const body = { title: `Bench post ${n}`, rank: 1_000_000 + n, status: 'public', author: data.userIds[n % data.userIds.length] };
        return { method: 'POST', path: RECORDS, body: JSON.stringify(body) };
      };
    },
  },
];
