import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/cli/open-app.js';
import { defaultConfig } from '../../src/core/config.js';

describe('the CLI logger', () => {
  it('writes request lines as pino JSON and redacts secrets from other lines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'basalt-logger-'));
    const file = join(dir, 'log.jsonl');
    try {
      const logger = createLogger(defaultConfig({ logLevel: 'info' }), file);
      logger.access!({ method: 'GET', path: '/api/health', status: 200, durationMs: 1.5 });
      logger.access!({ method: 'GET', path: '/api/a"b\\c\n', status: 404, durationMs: 0.2 });
      logger.info({ password: 'hunter2', token: 'secret-token', user: 'ada' }, 'signed in');
      logger.flush();
      await new Promise((r) => setTimeout(r, 50));
      const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(lines[0]).toMatchObject({ level: 30, method: 'GET', path: '/api/health', status: 200, durationMs: 1.5, msg: 'request' });
      expect(typeof lines[0].time).toBe('number');
      expect(lines[1].path).toBe('/api/a"b\\c\n');
      expect(lines[2]).toMatchObject({ user: 'ada', msg: 'signed in' });
      expect(JSON.stringify(lines)).not.toMatch(/hunter2|secret-token/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes no request line above info level', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'basalt-logger-'));
    const file = join(dir, 'log.jsonl');
    try {
      const logger = createLogger(defaultConfig({ logLevel: 'warn' }), file);
      logger.access!({ method: 'GET', path: '/x', status: 200, durationMs: 1 });
      logger.flush();
      await new Promise((r) => setTimeout(r, 50));
      expect(readFileSync(file, 'utf8')).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
