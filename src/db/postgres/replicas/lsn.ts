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

/** The WAL's page and segment sizes (`wal_block_size`, `wal_segment_size`; 8 KiB and 16 MiB by default). */
export interface WalGeometry {
  blockSize: bigint;
  segmentSize: bigint;
}

/** A WAL page header: 24 bytes, 40 on the first page of a segment (XLogLongPageHeaderData). */
const SHORT_HEADER = 24n;
const LONG_HEADER = 40n;

/**
 * The primary's insert position in the form a replica's replay position takes. NB: at a page
 * boundary, `pg_current_wal_insert_lsn()` points past the new page's header (where the next
 * record will start), while `pg_last_wal_replay_lsn()` is the end of the last record, the
 * boundary itself: on an idle primary the replica would never seem to catch up.
 */
export function insertToEnd(lsn: bigint, wal: WalGeometry): bigint {
  const inSegment = lsn % wal.segmentSize;
  if (inSegment === LONG_HEADER) return lsn - LONG_HEADER;
  if (inSegment >= wal.blockSize && lsn % wal.blockSize === SHORT_HEADER) return lsn - SHORT_HEADER;
  return lsn;
}
