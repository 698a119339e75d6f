/**
 * PostgreSQL write-ahead-log positions (`pg_lsn`, written `16/B374D848`: two 32-bit halves in
 * hex) as bigints, so that "has this replica replayed that commit?" is one comparison.
 */

/** The position `text` names; 0n for null (a server that has replayed nothing yet). */
export function parseLsn(text: string | null | undefined): bigint {
  if (!text) return 0n;
  const m = /^([0-9A-F]{1,8})\/([0-9A-F]{1,8})$/i.exec(text.trim());
  if (!m) throw new Error(`not a WAL position: ${text}`);
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}
