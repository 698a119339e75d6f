/** Tracing from the environment: null when off (no SDK loaded), else the SDK-backed Tracing. */
import type { Tracing } from '../core/tracing/tracing.js';
import { tracingConfigFromEnv } from './tracing-config.js';

export async function startTracing(env: NodeJS.ProcessEnv, version = 'unknown'): Promise<Tracing | null> {
  const config = tracingConfigFromEnv(env);
  if (!config.enabled) return null;
  const { createSdkTracing } = await import('./tracing-sdk.js');
  return createSdkTracing(config, version);
}
