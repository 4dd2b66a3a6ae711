import type { SinkFactory } from '../../core/sink.js';
import { chronicleSinkFactory } from './chronicle/index.js';
import { elasticSinkFactory } from './elastic/index.js';
import { fileSinkFactory } from './file/index.js';
import { splunkHecSinkFactory } from './splunk_hec/index.js';
import { webhookSinkFactory } from './webhook/index.js';

/**
 * Every sink type, by `type`. Each lives in bridge/sinks/<type>/ with its
 * config schema beside it.
 */
export const sinkFactories: SinkFactory<any>[] = [
  fileSinkFactory,
  splunkHecSinkFactory,
  elasticSinkFactory,
  chronicleSinkFactory,
  webhookSinkFactory,
];
