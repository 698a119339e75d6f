/**
 * The outbound-webhook flags: `--webhook-allow HOST[:PORT]` (repeatable; BASALT_WEBHOOK_ALLOW
 * comma-separated; a host alone means port 443) and `--webhook-concurrency` (0 to 1000); bad
 * values fail at start-up naming the flag.
 */
import { describe, expect, it } from 'vitest';
import { buildConfig, readOptions, UsageError } from '../../src/cli/config-from-args.js';

const configOf = (args: string[], env: NodeJS.ProcessEnv = {}) => buildConfig(readOptions(args, env, ['webhook-allow', 'webhook-concurrency']).values);

describe('webhook flags', () => {
  it('allows nothing and sends 32 at once by default', () => {
    expect(configOf([]).webhooks).toMatchObject({ allow: [], concurrency: 32 });
  });

  it('reads repeated --webhook-allow flags, normalised to host:port', () => {
    const config = configOf(['--webhook-allow', '127.0.0.1:4000', '--webhook-allow', 'ERP.internal', '--webhook-allow', '[::1]:8443']);
    expect(config.webhooks.allow).toEqual(['127.0.0.1:4000', 'erp.internal:443', '[::1]:8443']);
  });

  it('reads BASALT_WEBHOOK_ALLOW comma-separated; a flag wins over the variable', () => {
    expect(configOf([], { BASALT_WEBHOOK_ALLOW: 'a.internal:80, b.internal:8080' }).webhooks.allow).toEqual(['a.internal:80', 'b.internal:8080']);
    expect(configOf(['--webhook-allow', 'c.internal:1'], { BASALT_WEBHOOK_ALLOW: 'a.internal:80' }).webhooks.allow).toEqual(['c.internal:1']);
  });

  it('reads --webhook-concurrency, 0 included', () => {
    expect(configOf(['--webhook-concurrency', '0']).webhooks.concurrency).toBe(0);
    expect(configOf([], { BASALT_WEBHOOK_CONCURRENCY: '8' }).webhooks.concurrency).toBe(8);
  });

  it.each([
    [['--webhook-allow', 'http://a.internal/'], /--webhook-allow/],
    [['--webhook-allow', 'user@a.internal'], /--webhook-allow/],
    [['--webhook-allow', 'a.internal:99999'], /--webhook-allow/],
    [['--webhook-concurrency', '-1'], /--webhook-concurrency/],
    [['--webhook-concurrency', '1001'], /--webhook-concurrency/],
    [['--webhook-concurrency', 'many'], /--webhook-concurrency/],
  ])('refuses %j at start-up', (args, message) => {
    expect(() => configOf(args)).toThrow(UsageError);
    expect(() => configOf(args)).toThrow(message);
  });
});
