import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../bridge/config.js';
import { normalizeInput } from '../../../bridge/normalize.js';
import { formatter } from '../../../core/formats/index.js';
import { outputSchemas } from '../../../core/formats/validate.js';
import { describeZodError } from '../../../core/schema/index.js';
import { FIXTURES, readFixture } from '../../helpers/fixtures.js';

/**
 * Every platform fixture, through the real connectors (`--platform auto`),
 * mapped to every SIEM schema and validated. A connector that yields no
 * events for a file is not a failure here (its own tests own that); every
 * event it does yield must map to valid OCSF, ECS, UDM and CIM.
 */

const PLATFORM_DIRS = ['mlflow', 'sagemaker', 'vertex', 'kubeflow'];

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return filesUnder(p);
    return n === 'SOURCES.md' || n.startsWith('.') ? [] : [p];
  });
}

const files = PLATFORM_DIRS.flatMap((d) => filesUnder(join(FIXTURES, d))).map((p) => relative(FIXTURES, p)).sort();
const cfg = loadConfig({ env: {} });
const FORMATS = ['ocsf', 'ecs', 'udm', 'cim'] as const;

describe('platform fixtures → every output schema', () => {
  it('finds the fixture files', () => {
    expect(files.length).toBeGreaterThan(40);
  });

  let total = 0;
  it.each(files)('%s', (file) => {
    const r = normalizeInput(readFixture(file), file, 'auto', cfg, '2026-11-25T12:00:00.000Z');
    for (const ev of r.events) {
      total++;
      for (const f of FORMATS) {
        const out = formatter(f).event(ev);
        const v = outputSchemas[f].event.safeParse(out);
        if (!v.success) throw new Error(`${file}: event ${ev.id} (${ev.action}) → ${f}: ${describeZodError(v.error)}\n${JSON.stringify(out).slice(0, 2000)}`);
      }
    }
  });

  it.each(FORMATS.filter((f) => formatter(f).readsRaw === false))('%s, which declares it never reads raw, maps every fixture event the same without it', (f) => {
    let n = 0;
    for (const file of files) {
      for (const ev of normalizeInput(readFixture(file), file, 'auto', cfg, '2026-11-25T12:00:00.000Z').events) {
        if (ev.raw === undefined) continue;
        const { raw: _raw, ...lean } = ev;
        expect(formatter(f).event(lean as typeof ev), `${file}: ${ev.id}`).toEqual(formatter(f).event(ev));
        n++;
      }
    }
    expect(n).toBeGreaterThan(40);
  });

  it('reports how much was covered', () => {
    // Informational: grows as connectors land; never a failure on its own.
    console.log(`[formats] ${total} fixture events validated in ${FORMATS.length} schemas`);
    expect(total).toBeGreaterThanOrEqual(0);
  });
});
