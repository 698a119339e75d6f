/**
 * Builds the OpenTelemetry SDK for the Tracing port (adapters/otel-tracing.ts) from a
 * TracingConfig. Imported dynamically, only when tracing is on: with tracing off no SDK module is
 * loaded (test/api/tracing.test.ts checks it).
 */
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOffSampler, AlwaysOnSampler, BatchSpanProcessor, ConsoleSpanExporter, NodeTracerProvider, ParentBasedSampler, TraceIdRatioBasedSampler, type Sampler } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { createOtelTracing } from '../adapters/otel-tracing.js';
import type { Tracing } from '../core/tracing/tracing.js';
import type { TracingConfig, TracingSampler } from './tracing-config.js';

function samplerOf(s: TracingSampler): Sampler {
  const root = s.kind === 'always_on' ? new AlwaysOnSampler() : s.kind === 'always_off' ? new AlwaysOffSampler() : new TraceIdRatioBasedSampler(s.ratio);
  return s.parentBased ? new ParentBasedSampler({ root }) : root;
}

export function createSdkTracing(config: Extract<TracingConfig, { enabled: true }>, version: string): Tracing {
  // Batched: spans leave in the background, never on a request's path.
  const exporter = config.exporter === 'console' ? new ConsoleSpanExporter() : new OTLPTraceExporter({ url: config.url });
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName, [ATTR_SERVICE_VERSION]: version }),
    sampler: samplerOf(config.sampler),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  return createOtelTracing(provider, { shutdown: () => provider.shutdown() });
}
