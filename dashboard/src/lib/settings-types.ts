/** `/api/settings` as the server shows it (secrets left out: they are never sent back). */

export interface S3Shown {
  enabled: boolean;
  bucket: string;
  region: string;
  endpoint: string;
  accessKey: string;
  forcePathStyle: boolean;
}

export interface RateLimitRuleShown {
  label: string;
  audience: '' | '@guest' | '@auth';
  duration: number;
  maxRequests: number;
}

export interface SettingsShown {
  superuserIPs: string[];
  meta: { appName: string; appURL: string; senderName: string; senderAddress: string; hideControls: boolean; accentColor: string };
  smtp: { enabled: boolean; host: string; port: number; username: string; authMethod: string; tls: boolean; localName: string };
  rateLimits: { enabled: boolean; rules: RateLimitRuleShown[]; excludedIPs: string[] };
  batch: { enabled: boolean; maxRequests: number; timeout: number; maxBodySize: number };
  trustedProxy: { headers: string[]; useLeftmostIP: boolean };
  logs: { maxDays: number; minLevel: number; logIP: boolean; logAuthId: boolean };
  s3: S3Shown;
  backups: { cron: string; cronMaxKeep: number; s3: S3Shown };
}
