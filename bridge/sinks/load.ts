import type { SinkFactory } from '../../core/sink.js';

/**
 * Each sink type's module, loaded when a sink of that type is built: a sink
 * thread that runs only the file sink never loads the HTTP client or the
 * other sinks (about 18 MB of one isolate's memory). The catalogue every
 * config is checked against stays `sinkFactories` in ./index.ts; a test holds
 * the two to the same types and factories.
 */
const LOADERS: Record<string, () => Promise<SinkFactory<any>>> = {
  file: async () => (await import('./file/index.js')).fileSinkFactory,
  splunk_hec: async () => (await import('./splunk_hec/index.js')).splunkHecSinkFactory,
  elastic: async () => (await import('./elastic/index.js')).elasticSinkFactory,
  chronicle: async () => (await import('./chronicle/index.js')).chronicleSinkFactory,
  webhook: async () => (await import('./webhook/index.js')).webhookSinkFactory,
};

/** Sink types that can be loaded. */
export const loadableSinkTypes = (): string[] => Object.keys(LOADERS);

/**
 * The factory of a sink type, importing its module on first use.
 *
 * @example
 * const factory = await loadSinkFactory('splunk_hec');
 * const sink = factory.create(cfg, ctx);
 */
export async function loadSinkFactory(type: string): Promise<SinkFactory<any>> {
  const load = LOADERS[type];
  if (!load) throw new Error(`unknown sink type ${type}`);
  return load();
}
