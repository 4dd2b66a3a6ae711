import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { sinkFactories } from '../../../bridge/sinks/index.js';
import { ROOT } from '../../helpers/fixtures.js';
import { makeTestPki, tmpDir } from './helpers.js';

/** The YAML examples of the README's Sinks section are valid sink configs. */
describe('README sinks examples', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Sinks\n'), readme.indexOf('\n## Rules\n'));
  const blocks = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);

  it('has one example per sink type', () => expect(blocks.length).toBe(4));

  // tls.ca_file must hold a PEM certificate (checked with the config): the examples' CA paths stand for a real one.
  const caFile = blocks.some((b) => /ca_file:/.test(b)) ? makeTestPki().caFile : '';
  // A Chronicle credentials file must be a usable key (checked with the config): the example's path stands for one.
  const saFile = join(tmpDir(), 'chronicle-sa.json');
  writeFileSync(saFile, JSON.stringify({ type: 'service_account', client_email: 'ingest@p.iam.gserviceaccount.com', private_key: '-----BEGIN PRIVATE KEY-----\n…\n-----END PRIVATE KEY-----\n' }));

  for (const [k, block] of blocks.entries()) {
    it(`example ${k + 1} validates`, () => {
      const text = block
        .replace(/\$\{[A-Z_]+_URL\}/g, 'https://hooks.example.com/services/T/B/X')
        .replace(/\$\{[A-Z_]+\}/g, 'x'.repeat(32))
        .replace(/ca_file: \/etc\/ssl\/[\w.-]+\.pem/g, `ca_file: ${caFile}`)
        .replace(/credentials: \/etc\/mltrail\/[\w.-]+\.json/g, `credentials: ${saFile}`);
      const doc = parse(text) as { sinks: Record<string, Record<string, unknown>> };
      for (const [name, cfg] of Object.entries(doc.sinks)) {
        const factory = sinkFactories.find((f) => f.type === (cfg.type ?? name))!;
        const r = factory.configSchema.safeParse(cfg);
        expect(r.error?.message, `${name}`).toBeUndefined();
      }
    });
  }
});
