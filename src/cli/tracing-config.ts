/**
 * Whether tracing is on, and how, from the standard OpenTelemetry variables
 * (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/). Tracing is
 * on only when an exporter is configured: `OTEL_TRACES_EXPORTER=otlp` (or `console`), or, with
 * `OTEL_TRACES_EXPORTER` unset, an OTLP endpoint (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or
 * `OTEL_EXPORTER_OTLP_ENDPOINT`). `OTEL_SDK_DISABLED=true` turns it off whatever else is set.
 * Pure: the SDK itself is loaded (tracing-sdk.ts) only when this says on.
 */
import { UsageError } from './config-from-args.js';

export type TracingSampler = { kind: 'always_on' | 'always_off' | 'traceidratio'; ratio: number; parentBased: boolean };

export type TracingConfig =
  | { enabled: false }
  | {
      enabled: true;
      exporter: 'otlp' | 'console';
      /** The OTLP/HTTP traces URL (`…/v1/traces`). */
      url: string;
      serviceName: string;
      sampler: TracingSampler;
    };

const DEFAULT_ENDPOINT = 'http://localhost:4318';

export function tracingConfigFromEnv(env: NodeJS.ProcessEnv): TracingConfig {
  const value = (name: string) => (env[name] ?? '').trim();
  if (value('OTEL_SDK_DISABLED').toLowerCase() === 'true') return { enabled: false };
  const tracesEndpoint = value('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const endpoint = value('OTEL_EXPORTER_OTLP_ENDPOINT');
  // A list is allowed by the specification; Basalt sends to one exporter.
  const exporters = value('OTEL_TRACES_EXPORTER').toLowerCase().split(',').map((s) => s.trim()).filter(Boolean);
  let exporter: 'otlp' | 'console';
  if (exporters.length === 0) {
    if (!tracesEndpoint && !endpoint) return { enabled: false };
    exporter = 'otlp';
  } else if (exporters.includes('none')) {
    return { enabled: false };
  } else if (exporters.length === 1 && (exporters[0] === 'otlp' || exporters[0] === 'console')) {
    exporter = exporters[0];
  } else {
    throw new UsageError(`OTEL_TRACES_EXPORTER=${value('OTEL_TRACES_EXPORTER')} is not supported: use otlp, console or none`);
  }
  // The signal-specific URL is used as is; the general one gets the signal's path (spec).
  const url = tracesEndpoint || `${(endpoint || DEFAULT_ENDPOINT).replace(/\/+$/, '')}/v1/traces`;
  if (exporter === 'otlp' && !/^https?:\/\//i.test(url)) throw new UsageError(`the OTLP traces endpoint "${url}" must be an http:// or https:// URL (OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)`);
  return { enabled: true, exporter, url, serviceName: value('OTEL_SERVICE_NAME') || 'basalt', sampler: samplerFromEnv(value('OTEL_TRACES_SAMPLER'), value('OTEL_TRACES_SAMPLER_ARG')) };
}

function samplerFromEnv(name: string, arg: string): TracingSampler {
  const ratio = () => {
    if (arg === '') return 1;
    const n = Number(arg);
    if (!Number.isFinite(n) || n < 0 || n > 1) throw new UsageError(`OTEL_TRACES_SAMPLER_ARG=${arg} must be a number between 0 and 1`);
    return n;
  };
  switch (name.toLowerCase()) {
    case '':
    case 'parentbased_always_on':
      return { kind: 'always_on', ratio: 1, parentBased: true };
    case 'always_on':
      return { kind: 'always_on', ratio: 1, parentBased: false };
    case 'always_off':
      return { kind: 'always_off', ratio: 0, parentBased: false };
    case 'parentbased_always_off':
      return { kind: 'always_off', ratio: 0, parentBased: true };
    case 'traceidratio':
      return { kind: 'traceidratio', ratio: ratio(), parentBased: false };
    case 'parentbased_traceidratio':
      return { kind: 'traceidratio', ratio: ratio(), parentBased: true };
    default:
      throw new UsageError(`OTEL_TRACES_SAMPLER=${name} is not supported: use always_on, always_off, traceidratio or their parentbased_ forms`);
  }
}
