import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { MlflowConfig } from '../../../connectors/mlflow/config.js';
import { createMlflowConnector } from '../../../connectors/mlflow/index.js';
import type { ConnectorDeps } from '../../../core/connector.js';
import { Ingestor } from '../../../core/ingest.js';
import { silentLogger } from '../../../core/log.js';
import { NormalizedEvent } from '../../../core/schema/index.js';
import { Spool } from '../../../core/spool/index.js';
import { FakeMlflow } from './fake-mlflow.js';

/** The registry auditor as a test drives it: one poll at a time, its health. */
export interface TestAuditor { runOnce(): Promise<boolean>; health(): { state: string; reason?: string } }

/**
 * A strict fake MLflow server, a data dir and a clock, fresh for each test (registered with beforeEach/afterEach);
 * `auditor(poll)` starts an auditor over a spool reopened in that dir (a restart keeps only what was persisted),
 * `events()` reads back what it ingested; `setup` prepares each fake server before it starts (credentials).
 *
 * @example
 * const h = useAuditorHarness('mltrail-mlflow-lm-', T0);
 * it('…', async () => { h.fake.addModel('m', T0); await h.auditor().runOnce(); expect(h.events()).toHaveLength(1); });
 */
export function useAuditorHarness(prefix: string, t0: number, setup: (fake: FakeMlflow) => void = () => {}) {
  const h = {
    fake: undefined as unknown as FakeMlflow,
    dir: '',
    spool: undefined as Spool | undefined,
    clock: { now: t0 + 3_600_000 },
    auditor(poll: Record<string, unknown> = {}): TestAuditor {
      h.spool?.close();
      const spool = (h.spool = Spool.open({ dir: h.dir }));
      const config = MlflowConfig.parse({ poll: { tracking_uri: h.fake.url, page_size: 50, max_attempts: 2, retry_initial_ms: 5, retry_max_ms: 10, request_timeout_ms: 3000, ...poll } });
      const deps: ConnectorDeps<MlflowConfig> = { config, ingest: new Ingestor(spool, silentLogger()), spool, logger: silentLogger(), server: { host: '127.0.0.1', port: 0, bodyLimitBytes: 1 << 20 }, dataDir: h.dir, keepRaw: true, env: {} };
      return createMlflowConnector({ now: () => h.clock.now }).pollers!(deps)[0] as unknown as TestAuditor;
    },
    events: (): NormalizedEvent[] => h.spool!.read('test', 100_000, 0).map((r) => NormalizedEvent.parse(JSON.parse(r.body))),
  };
  beforeEach(async () => {
    h.fake = new FakeMlflow();
    setup(h.fake);
    await h.fake.start();
    h.dir = mkdtempSync(join(tmpdir(), prefix));
    h.clock.now = t0 + 3_600_000;
  });
  afterEach(async () => {
    h.spool?.close();
    h.spool = undefined;
    await h.fake.stop();
    rmSync(h.dir, { recursive: true, force: true });
  });
  return h;
}
