/** View queries are read-only SELECTs: statements that write, or functions that may, are refused. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINE } from '../harness/engines.js';
import { createSuperuser } from '../harness/fixtures.js';
import { send } from '../harness/scenario.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

let t: TestApp;
let token = '';
beforeAll(async () => {
  t = await startTestApp();
  token = (await createSuperuser(t)).token;
});
afterAll(async () => {
  await t?.close();
});

const createView = (name: string, viewQuery: string) =>
  send(t, 'POST', '/api/collections', { auth: token, body: { name, type: 'view', viewQuery, listRule: '' } });

describe('view query safety', () => {
  it('a function that changes state is refused, and no view is left behind', async () => {
    const call = ENGINE === 'postgres' ? "set_config('basalt.probe', 'x', false)" : "load_extension('x')";
    const res = await createView('v_state', `SELECT id, ${call} AS x FROM users`);
    expect(res.status).toBe(400);
    expect(res.body.data.viewQuery.code).toBe('validation_invalid_view_query');
    expect((await send(t, 'GET', '/api/collections/v_state', { auth: token })).status).toBe(404);
  });

  it('a data-modifying CTE is refused', async () => {
    const res = await createView('v_cte', "WITH d AS (DELETE FROM users RETURNING id) SELECT id FROM d");
    expect(res.status).toBe(400);
  });

  it('harmless volatile functions (random) are fine', async () => {
    const res = await createView('v_random', 'SELECT id, random() AS r FROM users');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect((await send(t, 'GET', '/api/collections/v_random/records', { auth: token })).status).toBe(200);
  });
});

describe('view query smuggling', () => {
  it('a `$` inside an identifier does not hide a second statement', async () => {
    const res = await createView('v_smuggle', 'SELECT id, 1 AS a$q$ FROM users; CREATE TABLE pwned AS SELECT id FROM users; SELECT 1 AS b$q$');
    expect(res.status).toBe(400);
    expect((await send(t, 'GET', '/api/collections', { auth: token })).body.items.map((c: { name: string }) => c.name)).not.toContain('pwned');
    const tables = await t.app.db.schema.tableExists('pwned');
    expect(tables).toBe(false);
  });

  it('a volatile function cannot hide behind an identifier with `$`', async () => {
    if (ENGINE !== 'postgres') return;
    const res = await createView('v_smuggle2', "SELECT id, 1 AS a$q$, set_config('basalt.probe', 'x', false) AS b$q$ FROM users");
    expect(res.status).toBe(400);
  });
});
