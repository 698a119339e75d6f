/** The benchmark's settings, from BENCH_* environment variables and `--cpu-prof` (see README.md). */
import type { Settings } from './measure.js';
import { SCENARIOS, type ScenarioId } from './scenarios.js';

export type Engine = 'sqlite' | 'postgres';
export type Only = 'jobs' | 'hooks' | 'webhooks' | 'logs' | 'cluster' | 'large';

export interface Options {
  /** `settings.connections` is the first of `connectionLevels` (files and realtime runs use it). */
  settings: Settings;
  /** Each scenario runs once per level (BENCH_CONNECTIONS, comma-separated). @default [10, 50] */
  connectionLevels: number[];
  engines: Engine[];
  /** True when BENCH_ENGINES names the engines: an unreachable PostgreSQL is then an error. */
  enginesExplicit: boolean;
  scenarios: ScenarioId[];
  /** Maintenance database on which `basalt_bench_<ts>` is created and dropped. */
  pgAdminUrl: string;
  /** Basalt's --log-level. @default "warn" */
  logLevel: string;
  /** Start Basalt under `node --cpu-prof`. */
  profile: boolean;
  /** Subscriber counts of the realtime fan-out runs (BENCH_REALTIME, `off` for none). */
  realtimeLevels: number[];
  /** The files runs: upload, first thumbnail, cached thumbnails (BENCH_FILES, `off` to skip). */
  files: boolean;
  /** The job-queue runs (bench/jobs.ts; BENCH_JOBS, `off` to skip). */
  jobs: boolean;
  /** The hooks runs (bench/hooks.ts; BENCH_HOOKS, `off` to skip). */
  hooks: boolean;
  /** Rounds of the hooks runs (BENCH_HOOKS_ROUNDS); each variant's figure is the median. @default 3 */
  hooksRounds: number;
  /** The outbound-webhook runs (bench/webhooks.ts; BENCH_WEBHOOKS, `off` to skip). */
  webhooks: boolean;
  /** The stored-logs runs (bench/logs.ts; BENCH_LOGS, `off` to skip). */
  logs: boolean;
  /** The cluster runs (bench/cluster.ts; BENCH_CLUSTER, `off` to skip). */
  cluster: boolean;
  /** The large-collections runs (bench/large.ts; BENCH_LARGE, `0` or `off` to skip). */
  large: boolean;
  /** BENCH_ONLY=jobs, hooks, webhooks, logs, cluster or large: those runs alone. */
  only: Only | null;
}

function realtimeLevels(raw: string | undefined): number[] {
  if (raw === 'off' || raw === '0') return [];
  const levels = (raw || '1000,5000,10000').split(',').map((s) => Number(s.trim()));
  if (levels.some((n) => !Number.isInteger(n) || n < 1 || n > 15_000)) throw new Error(`BENCH_REALTIME="${raw}": use subscriber counts between 1 and 15000 separated by commas, or off`);
  return levels;
}

function connectionLevels(raw: string | undefined): number[] {
  const levels = (raw || '10,50').split(',').map((s) => Number(s.trim()));
  if (levels.some((n) => !Number.isInteger(n) || n < 1 || n > 1000)) throw new Error(`BENCH_CONNECTIONS="${raw}": use connection counts between 1 and 1000 separated by commas`);
  return levels;
}

function envNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}="${raw}" must be a non-negative number`);
  return n;
}

function envList<T extends string>(env: NodeJS.ProcessEnv, name: string, allowed: readonly T[]): T[] {
  const raw = env[name];
  if (!raw) return [...allowed];
  const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = list.filter((s) => !(allowed as readonly string[]).includes(s));
  if (unknown.length > 0 || list.length === 0) throw new Error(`${name}="${raw}": use a comma-separated list of ${allowed.join(', ')}`);
  return list as T[];
}

function onlyOption(raw: string | undefined): Only | null {
  if (!raw) return null;
  if (raw !== 'jobs' && raw !== 'hooks' && raw !== 'webhooks' && raw !== 'logs' && raw !== 'cluster' && raw !== 'large') throw new Error(`BENCH_ONLY="${raw}": use jobs, hooks, webhooks, logs, cluster or large`);
  return raw;
}

function hooksRounds(env: NodeJS.ProcessEnv): number {
  const n = envNumber(env, 'BENCH_HOOKS_ROUNDS', 3);
  if (!Number.isInteger(n) || n < 1 || n > 20) throw new Error(`BENCH_HOOKS_ROUNDS="${env.BENCH_HOOKS_ROUNDS}": use a whole number between 1 and 20`);
  return n;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function readOptions(argv: string[], env: NodeJS.ProcessEnv): Options {
  const seconds = envNumber(env, 'BENCH_SECONDS', 8);
  if (seconds < 1) throw new Error('BENCH_SECONDS must be at least 1');
  const logLevel = env.BENCH_LOG_LEVEL || 'warn';
  if (!LOG_LEVELS.includes(logLevel)) throw new Error(`BENCH_LOG_LEVEL="${logLevel}": use one of ${LOG_LEVELS.join(', ')}`);
  const levels = connectionLevels(env.BENCH_CONNECTIONS);
  return {
    settings: {
      seconds,
      warmupSeconds: envNumber(env, 'BENCH_WARMUP_SECONDS', 2),
      connections: levels[0],
    },
    connectionLevels: levels,
    engines: envList<Engine>(env, 'BENCH_ENGINES', ['sqlite', 'postgres']),
    enginesExplicit: Boolean(env.BENCH_ENGINES),
    scenarios: envList<ScenarioId>(env, 'BENCH_SCENARIOS', SCENARIOS.map((s) => s.id)),
    pgAdminUrl: env.BENCH_PG_URL || 'postgres://postgres@127.0.0.1:5432/test',
    logLevel,
    profile: argv.includes('--cpu-prof') || env.BENCH_PROFILE === '1',
    realtimeLevels: realtimeLevels(env.BENCH_REALTIME),
    files: env.BENCH_FILES !== 'off',
    jobs: env.BENCH_JOBS !== 'off',
    hooks: env.BENCH_HOOKS !== 'off',
    webhooks: env.BENCH_WEBHOOKS !== 'off',
    logs: env.BENCH_LOGS !== 'off',
    cluster: env.BENCH_CLUSTER !== 'off',
    large: env.BENCH_LARGE !== '0' && env.BENCH_LARGE !== 'off',
    hooksRounds: hooksRounds(env),
    only: onlyOption(env.BENCH_ONLY),
  };
}
