import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../bridge/config.js';
import { startBridge } from '../../../bridge/runtime.js';
import { silentLogger } from '../../../core/log.js';
import { FakeChronicle } from './chronicle/fake.js';
import { FakeElastic } from './elastic/fake.js';
import { testEvent, tmpDir, until } from './helpers.js';
import { FakeHec } from './splunk_hec/fake.js';

/** Quick setup by environment: the running bridge forwards what /v1/events accepts to every SIEM the env enables. */
describe('bridge with sinks enabled by environment variables', () => {
  it('POST /v1/events → Splunk HEC, Elastic and Chronicle; /readyz lists each sink', async () => {
    const [hec, es, chr] = await Promise.all([new FakeHec().start(), new FakeElastic().start(), new FakeChronicle().start()]);
    const env = {
      MLTRAIL_INGEST_TOKEN: 'ingest-token',
      MLTRAIL_SPLUNK_HEC_URL: hec.url,
      MLTRAIL_SPLUNK_HEC_TOKEN: hec.token,
      MLTRAIL_ELASTIC_URL: es.url,
      MLTRAIL_ELASTIC_API_KEY: es.apiKey,
      MLTRAIL_CHRONICLE_ACCESS_TOKEN: 'ya29.test-token',
      MLTRAIL_CHRONICLE_INSTANCE: chr.instance,
      MLTRAIL_CHRONICLE_URL: chr.url,
    };
    const cfg = loadConfig({ env, overrides: { server: { port: 0 }, data_dir: tmpDir() } });
    expect(cfg.sinks.map((s) => s.type).sort()).toEqual(['chronicle', 'elastic', 'splunk_hec']);
    const bridge = await startBridge(cfg, { logger: silentLogger(), env });
    try {
      const evs = [testEvent(1), testEvent(2), testEvent(3)];
      const res = await fetch(`${bridge.url}/v1/events`, {
        method: 'POST',
        headers: { authorization: 'Bearer ingest-token', 'content-type': 'application/json' },
        body: JSON.stringify(evs),
      });
      expect(res.status).toBe(200);
      const ids = evs.map((e) => e.id).sort();
      await until(() => hec.ids().length >= 3 && es.ids().length >= 3 && chr.ids().length >= 3, 15_000, 'delivery to all three');
      expect(hec.ids().sort()).toEqual(ids);
      expect(es.ids().sort()).toEqual(ids);
      expect(chr.ids().sort()).toEqual(ids);
      expect(hec.indexed[0]!.envelope.sourcetype).toMatch(/^mltrail:/); // CIM by default
      const ready = (await (await fetch(`${bridge.url}/readyz`)).json()) as { components: Record<string, { state: string }> };
      expect(Object.keys(ready.components)).toEqual(expect.arrayContaining(['sink:splunk_hec', 'sink:elastic', 'sink:chronicle']));
    } finally {
      await bridge.stop();
      await Promise.all([hec.close(), es.close(), chr.close()]);
    }
  }, 30_000);
});
