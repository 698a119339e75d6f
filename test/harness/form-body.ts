/**
 * A multipart/form-data body with binary parts, as `t.server.inject` takes it (a Buffer and its
 * content-type header). Parts keep their order, so names may repeat.
 */
export interface FormPart {
  name: string;
  value: string | Buffer;
  /** Set for a file part. */
  filename?: string;
  /** The file part's claimed type. @default application/octet-stream */
  type?: string;
}

export function formBody(parts: readonly FormPart[]): { payload: Buffer; headers: Record<string, string> } {
  const boundary = '----basalt' + Math.random().toString(16).slice(2);
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.filename ? `; filename="${p.filename}"` : ''}`;
    const head = `--${boundary}\r\nContent-Disposition: ${disposition}\r\n${p.filename ? `Content-Type: ${p.type ?? 'application/octet-stream'}\r\n` : ''}\r\n`;
    chunks.push(Buffer.from(head), Buffer.isBuffer(p.value) ? p.value : Buffer.from(p.value), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}
