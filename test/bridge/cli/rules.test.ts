import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tmpDir } from '../../helpers/bridge.js';
import { runCli } from '../../helpers/cli.js';

describe('mltrail rules list (in process)', () => {
  it('a disabled rule is listed as off, not in the mode it would run in', async () => {
    const f = join(tmpDir(), 'rules.yaml');
    writeFileSync(f, 'rules:\n  serving.error_spike:\n    enabled: false\n    mode: alert\n  access.separation_of_duties:\n    mode: observe\n');
    const r = await runCli(['rules', 'list', '--config', f]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^serving\.error_spike\s+serving\s+off\s/m);
    expect(r.out).toMatch(/^access\.separation_of_duties\s+\S+\s+observe\s/m);
  });
});
