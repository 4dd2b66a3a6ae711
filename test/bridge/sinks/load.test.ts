import { describe, expect, it } from 'vitest';
import { sinkFactories } from '../../../bridge/sinks/index.js';
import { loadSinkFactory, loadableSinkTypes } from '../../../bridge/sinks/load.js';

describe('sink factories loaded on demand', () => {
  it('load exactly the catalogue: the same types, each to the same factory', async () => {
    expect(loadableSinkTypes().sort()).toEqual(sinkFactories.map((f) => f.type).sort());
    for (const f of sinkFactories) expect(await loadSinkFactory(f.type)).toBe(f);
  });

  it('refuse an unknown type', async () => {
    await expect(loadSinkFactory('kafka')).rejects.toThrow(/unknown sink type kafka/);
  });
});
