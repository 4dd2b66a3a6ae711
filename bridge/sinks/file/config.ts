import { z } from 'zod';
import { SinkCommonConfig } from '../../../core/sink.js';
import { FORMATS } from '../../../core/formats/index.js';

/** `sinks.file`: rotating NDJSON files, the embedded default when no SIEM is configured. */
export const FileSinkConfig = SinkCommonConfig.extend({
  /** Directory for events*.ndjson and alerts*.ndjson; default `<data_dir>/out`. */
  path: z.string().optional(),
  /** Output schema of each line. */
  format: z.enum(FORMATS).default('core'),
  /** Rotate a file when it reaches this size (bytes). */
  max_file_bytes: z.number().int().positive().default(100 * 1024 * 1024),
  /** Rotated files to keep per kind; 0 keeps all. */
  max_files: z.number().int().nonnegative().default(0),
  /** fsync after each batch (delivered means on disk). */
  fsync: z.boolean().default(true),
}).strict();
export type FileSinkConfig = z.infer<typeof FileSinkConfig>;
