/**
 * The metrics flags: `--metrics-token` (BASALT_METRICS_TOKEN) and `--metrics-http`
 * (BASALT_METRICS_HTTP); off when neither is set; a weak or malformed value fails at start-up
 * naming the flag (and never echoing the token).
 */
import { describe, expect, it } from 'vitest';
import { buildConfig, readOptions, UsageError } from '../../src/cli/config-from-args.js';
import { metricsEnabled } from '../../src/core/config.js';

const configOf = (args: string[], env: NodeJS.ProcessEnv = {}) => buildConfig(readOptions(args, env, ['metrics-token', 'metrics-http']).values);
const TOKEN = 'a1b2c3d4e5f6a7b8c9d0';

describe('metrics flags', () => {
  it('are off by default', () => {
    const config = configOf([]);
    expect(config.metrics).toEqual({ token: '', http: null });
    expect(metricsEnabled(config.metrics)).toBe(false);
  });

  it('read the token from the flag or the environment (the flag wins)', () => {
    expect(configOf(['--metrics-token', TOKEN]).metrics).toEqual({ token: TOKEN, http: null });
    expect(configOf([], { BASALT_METRICS_TOKEN: TOKEN }).metrics.token).toBe(TOKEN);
    expect(configOf(['--metrics-token', `${TOKEN}x`], { BASALT_METRICS_TOKEN: TOKEN }).metrics.token).toBe(`${TOKEN}x`);
    expect(metricsEnabled(configOf([], { BASALT_METRICS_TOKEN: TOKEN }).metrics)).toBe(true);
  });

  it('read the separate address', () => {
    expect(configOf(['--metrics-http', '127.0.0.1:9100']).metrics).toEqual({ token: '', http: { host: '127.0.0.1', port: 9100 } });
    expect(configOf([], { BASALT_METRICS_HTTP: '[::1]:9100' }).metrics.http).toEqual({ host: '::1', port: 9100 });
    expect(metricsEnabled(configOf(['--metrics-http', '0.0.0.0:9100']).metrics)).toBe(true);
  });

  it.each([
    [['--metrics-token', 'short'], /--metrics-token/],
    [['--metrics-token', 'has a space in it, long enough'], /--metrics-token/],
    [['--metrics-token', 'bsk_looks_like_an_api_key_0123'], /--metrics-token/],
    [['--metrics-token', 'x'.repeat(513)], /--metrics-token/],
    [['--metrics-token', 'ünïcödé-token-long-enough'], /--metrics-token/],
    [['--metrics-http', '9100'], /--metrics-http/],
    [['--metrics-http', '127.0.0.1:99999'], /--metrics-http/],
    [['--metrics-http', 'http://127.0.0.1:9100'], /--metrics-http/],
  ])('refuses %j at start-up', (args, message) => {
    expect(() => configOf(args)).toThrow(UsageError);
    expect(() => configOf(args)).toThrow(message);
    // The message says what to fix without repeating a secret.
    try {
      configOf(args);
    } catch (err) {
      if (args[0] === '--metrics-token') expect((err as Error).message).not.toContain(args[1]);
    }
  });
});
