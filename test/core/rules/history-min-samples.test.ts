import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../bridge/config.js';
import { tmpDir } from '../../helpers/bridge.js';

/**
 * A baseline keeps `history` samples per seasonal bucket and is trusted from `min_samples` of them. A team
 * that shortens `history` to adapt faster (history: 6, below the default min_samples 8), or raises
 * min_samples past history, got a rule that never judged a window — it never fired, and `rules tune` said
 * "keep the defaults until a week of baselines exists" — while check-config said ok.
 */
const load = (rules: string) => () => {
  const f = join(tmpDir(), 'mltrail.yaml');
  writeFileSync(f, `rules:\n${rules}`);
  return loadConfig({ file: f, env: {} });
};

describe('history shorter than min_samples is a config error', () => {
  it('names the setting that makes it so: the rule’s own, a custom rule’s, or defaults.statistical', () => {
    expect(load('  ingestion.volume_anomaly: { history: 6 }\n')).toThrow(/rules\.ingestion\.volume_anomaly\.history: history \(6\) is less than min_samples \(8\)/);
    expect(load('  serving.behavioral_drift: { min_samples: 30 }\n')).toThrow(/rules\.serving\.behavioral_drift\.min_samples: history \(24\) is less than min_samples \(30\)/);
    expect(load('  defaults: { statistical: { history: 6 } }\n')).toThrow(/rules\.defaults\.statistical\.history: .*serving\.error_spike/);
    expect(load('  custom:\n    - { id: platform.writes, kind: statistical, stage: platform, history: 5 }\n')).toThrow(/rules\.custom\.0\.history: history \(5\) is less than min_samples \(8\)/);
  });

  it('near miss: history equal to min_samples, both raised together, or the rule turned off, are fine', () => {
    expect(load('  ingestion.volume_anomaly: { history: 8 }\n')).not.toThrow();
    expect(load('  defaults: { statistical: { history: 48, min_samples: 30 } }\n')).not.toThrow();
    expect(load('  ingestion.volume_anomaly: { history: 6, min_samples: 4 }\n')).not.toThrow();
    expect(load('  ingestion.volume_anomaly: { history: 6, enabled: false }\n')).not.toThrow();
    // A bad duration elsewhere is still reported as itself.
    expect(load('  custom:\n    - { id: platform.writes, kind: statistical, stage: platform, window: soon }\n')).toThrow(/rules\.custom\.0\.window: expected a duration/);
  });
});
