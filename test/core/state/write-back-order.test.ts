import { describe, expect, it } from 'vitest';
import { MemoryStateStore } from '../../../core/state/index.js';
import { WriteBackStateStore } from '../../../core/state/write-back.js';

/** serializeDirty hands a commit its changes in key order per namespace (perf29: the upserts walk the B-tree forward). */
describe('WriteBackStateStore.serializeDirty order', () => {
  it('lists each namespace’s changed keys sorted, deletes among them, and writes the same state', () => {
    const backing = new MemoryStateStore();
    backing.set('ns', 'm', 0);
    const cache = new WriteBackStateStore(backing);
    for (const k of ['z', 'a|2', 'a|10', 'm', 'b']) cache.set('ns', k, k.length);
    cache.delete('ns', 'm');
    cache.set('other', 'y', 1);
    cache.set('other', 'x', 2);
    const changes = cache.serializeDirty();
    expect(changes.map((c) => [c.ns, c.key, c.json])).toEqual([
      ['ns', 'a|10', '4'],
      ['ns', 'a|2', '3'],
      ['ns', 'b', '1'],
      ['ns', 'm', undefined],
      ['ns', 'z', '1'],
      ['other', 'x', '2'],
      ['other', 'y', '1'],
    ]);
    cache.write(changes);
    expect(backing.list('ns')).toEqual([{ key: 'a|10', value: 4 }, { key: 'a|2', value: 3 }, { key: 'b', value: 1 }, { key: 'z', value: 1 }]);
    expect(backing.list('other')).toEqual([{ key: 'x', value: 2 }, { key: 'y', value: 1 }]);
    expect(cache.serializeDirty()).toEqual([]);
  });
});
