/**
 * Whether a statement that reads (db/timed-query.ts `statementKind`) may run on a replica: not
 * when it has a side effect a standby refuses (NOTIFY, sequences, settings, advisory locks) or
 * locks rows. Client values never reach the text (they are bound parameters), so a match is
 * Basalt's own SQL. Checked only when replicas are configured.
 */
const PRIMARY_ONLY = /\b(?:pg_notify|nextval|setval|set_config|pg_advisory\w*|pg_try_advisory\w*)\s*\(|\bFOR\s+(?:NO\s+KEY\s+)?(?:UPDATE|SHARE)\b/i;

export function replicaSafe(text: string): boolean {
  return !PRIMARY_ONLY.test(text);
}
