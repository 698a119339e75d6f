/** `POST /api/files/token` (spec §1.7): a short-lived token for protected files. */
import { signRecordToken } from '../auth/tokens.js';
import type { Clock } from '../clock.js';
import type { RecordModel } from '../model/record-model.js';

/** A `file` token of the signed-in record (its collection's fileToken secret and duration, 180 s by default). */
export function issueFileToken(clock: Clock, record: RecordModel): Promise<string> {
  return signRecordToken(clock, record, 'file');
}
