/** A file part of a request (multipart upload), before it is validated and stored. */
export interface UploadedFile {
  /** The form field it came in, as sent: `avatar`, `avatar+`, `+avatar`, `requests.0.avatar`… */
  field: string;
  /** The client's name for it (untrusted: sanitised before it becomes a stored name). */
  filename: string;
  /** The client's claimed type (untrusted: the type is detected from the content). */
  mimetype: string;
  data: Buffer;
  /**
   * The part was larger than the largest file the route keeps: `data` holds only its first
   * bytes, so the upload can only be refused (`validation_file_size_limit`), never stored.
   */
  oversize?: boolean;
}
