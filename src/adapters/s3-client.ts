/**
 * The one way Basalt builds an S3 client (file storage, backups, the settings probe): an
 * S3-compatible endpoint, checksums only where the API requires them (many S3-compatible servers
 * reject the SDK's default CRC32 trailers on every PUT), and timeouts that fail a stuck server.
 */
import { S3Client } from '@aws-sdk/client-s3';

/** Where and as whom (the bucket is named per request). */
export interface S3Connection {
  endpoint: string;
  region: string;
  accessKey: string;
  secret: string;
  forcePathStyle: boolean;
}

export interface S3Timeouts {
  connectionTimeout: number;
  /** Idle time of a request's socket before it fails (not an overall deadline). */
  requestTimeout: number;
  socketTimeout: number;
  maxAttempts: number;
}

export function createS3Client(connection: S3Connection, timeouts: S3Timeouts): S3Client {
  const { connectionTimeout, requestTimeout, socketTimeout, maxAttempts } = timeouts;
  return new S3Client({
    endpoint: connection.endpoint || undefined,
    region: connection.region || 'us-east-1',
    forcePathStyle: connection.forcePathStyle,
    credentials: { accessKeyId: connection.accessKey, secretAccessKey: connection.secret },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // NB: without throwOnRequestTimeout the SDK only prints a warning when requestTimeout passes, and waits on.
    requestHandler: { connectionTimeout, requestTimeout, throwOnRequestTimeout: true, socketTimeout },
    maxAttempts,
  });
}
