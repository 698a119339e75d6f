/**
 * Whether PostgreSQL rolled a transaction back to settle a conflict with another one: 40P01
 * deadlock_detected (it was the victim) or 40001 serialization_failure. Nothing of it was
 * written, and running it again normally succeeds. What a driver error carries (`code`), or a
 * client binary's (postgres-backups.ts).
 */
export function isTransactionConflict(err: unknown): boolean {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return code === '40P01' || code === '40001';
}
