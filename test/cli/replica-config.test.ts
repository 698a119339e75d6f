/**
 * `--db-replica URL` (repeatable; BASALT_DB_REPLICAS comma-separated): PostgreSQL streaming
 * replicas of a PostgreSQL `--db`. Anything else fails at start-up naming the flag, and a
 * password in a URL never appears in the message.
 */
import { describe, expect, it } from 'vitest';
import { buildConfig, readOptions, UsageError } from '../../src/cli/config-from-args.js';

const PRIMARY = 'postgres://app@db-primary:5432/app';
const configOf = (args: string[], env: NodeJS.ProcessEnv = {}) => buildConfig(readOptions(args, env, ['db', 'db-replica', 'db-replica-max-lag']).values);

describe('--db-replica', () => {
  it('is empty by default, with a 5 s lag bound', () => {
    expect(configOf(['--db', PRIMARY]).databaseReplicas).toEqual([]);
    expect(configOf([]).databaseReplicas).toEqual([]);
    expect(configOf([]).replicaMaxLagMs).toBe(5000);
  });

  it('reads --db-replica-max-lag and BASALT_DB_REPLICA_MAX_LAG', () => {
    expect(configOf(['--db-replica-max-lag', '1500']).replicaMaxLagMs).toBe(1500);
    expect(configOf([], { BASALT_DB_REPLICA_MAX_LAG: '20000' }).replicaMaxLagMs).toBe(20000);
  });

  it('reads repeated flags, and BASALT_DB_REPLICAS comma-separated; a flag wins over the variable', () => {
    const a = 'postgres://app@db-replica-a:5432/app';
    const b = 'postgresql://app@db-replica-b:5432/app';
    expect(configOf(['--db', PRIMARY, '--db-replica', a, '--db-replica', b]).databaseReplicas).toEqual([a, b]);
    expect(configOf([], { BASALT_DB: PRIMARY, BASALT_DB_REPLICAS: ` ${a} , ${b} ` }).databaseReplicas).toEqual([a, b]);
    expect(configOf(['--db', PRIMARY, '--db-replica', b], { BASALT_DB_REPLICAS: a }).databaseReplicas).toEqual([b]);
  });

  it.each([
    [['--db-replica', 'postgres://app@r:5432/app'], /--db-replica needs a PostgreSQL --db/],
    [['--db', '/tmp/data.db', '--db-replica', 'postgres://app@r:5432/app'], /--db-replica needs a PostgreSQL --db/],
    [['--db', PRIMARY, '--db-replica', 'mysql://app@r/app'], /invalid --db-replica/],
    [['--db', PRIMARY, '--db-replica', 'replica-host:5432'], /invalid --db-replica/],
    [['--db', PRIMARY, '--db-replica', 'postgres://a@r/app', '--db-replica', 'postgres://a@r/app'], /the same replica is given twice/],
    [['--db-replica-max-lag', '0'], /invalid --db-replica-max-lag/],
    [['--db-replica-max-lag', '99'], /invalid --db-replica-max-lag/],
    [['--db-replica-max-lag', '600001'], /invalid --db-replica-max-lag/],
    [['--db-replica-max-lag', '5s'], /invalid --db-replica-max-lag/],
  ])('refuses %j at start-up', (args, message) => {
    expect(() => configOf(args)).toThrow(UsageError);
    expect(() => configOf(args)).toThrow(message);
  });

  it('never shows a password', () => {
    expect(() => configOf(['--db', PRIMARY, '--db-replica', 'mysql://app:s3cret@r/app'])).toThrow(/mysql:\/\/app:\*\*\*@r\/app/);
    expect(() => configOf(['--db', PRIMARY, '--db-replica', 'mysql://app:s3cret@r/app'])).not.toThrow(/s3cret/);
  });
});
