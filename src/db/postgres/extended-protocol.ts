import type pg from 'pg';

/**
 * Marks SQL text that must go over the extended query protocol, which PostgreSQL refuses to run
 * with more than one statement (the simple protocol, which pg uses for parameterless queries,
 * runs them all). DDL that embeds a superuser's SQL (view queries) carries it.
 */
export const EXTENDED_PROTOCOL = '/* basalt:extended */ ';

const patched = Symbol('basalt.extendedProtocol');

/** A pool whose clients send EXTENDED_PROTOCOL statements with `queryMode: 'extended'`. */
export function withExtendedProtocol(pool: pg.Pool) {
  return {
    async connect() {
      const client = (await pool.connect()) as pg.PoolClient & { [patched]?: true };
      if (!client[patched]) {
        const query = client.query.bind(client) as (...args: unknown[]) => unknown;
        (client as any).query = (text: unknown, values?: unknown) =>
          typeof text === 'string' && text.startsWith(EXTENDED_PROTOCOL) ? query({ text, values, queryMode: 'extended' }) : query(text, values);
        client[patched] = true;
      }
      return client;
    },
    end: () => pool.end(),
  };
}

