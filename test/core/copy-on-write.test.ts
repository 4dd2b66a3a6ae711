import { describe, expect, it } from 'vitest';
import { mapElements, mapValues } from '../../core/copy-on-write.js';
import { redactJobSecrets, redactTagList, redactTagMap, redactValueMap } from '../../core/secrets.js';
import { redactPackageSourceSecrets } from '../../core/integrity/packages.js';

describe('core/copy-on-write: the walkers that hide secrets copy only what changes', () => {
  it('mapElements / mapValues give the same value (===) when nothing changes, else a copy with only the changed entries replaced; the input is never changed', () => {
    const list = ['a', { b: 1 }, 3] as const;
    expect(mapElements(list, (v) => v)).toBe(list);
    const l2 = mapElements(list, (v) => (v === 'a' ? 'x' : v));
    expect(l2).toEqual(['x', { b: 1 }, 3]);
    expect(l2[1]).toBe(list[1]);
    expect(list[0]).toBe('a');
    const obj = { a: 1, b: { c: 2 }, d: 'e' };
    expect(mapValues(obj, (v) => v)).toBe(obj);
    const o2 = mapValues(obj, (v, k) => (k === 'd' ? 'z' : v));
    expect(o2).toEqual({ a: 1, b: { c: 2 }, d: 'z' });
    expect(o2.b).toBe(obj.b);
    expect(obj.d).toBe('e');
    expect(mapValues({}, () => 1)).toEqual({});
    expect(mapElements([], () => 1)).toEqual([]);
  });

  it('the three walkers (job secrets, JSON values / tags, package sources) return their input (===) when nothing is hidden and copy only the changed path', () => {
    const env = [{ name: 'EPOCHS', value: '3' }, { name: 'HF_TOKEN', value: 'cow-1' }];
    const rec = { requestParameters: { a: { env, environment: { LR: '0.1' } }, b: { untouched: ['x'] }, message: 'ok', tags: [{ key: 'team', value: 'r' }] } };
    const out = redactJobSecrets(rec);
    expect(out.requestParameters.a.env).toEqual([{ name: 'EPOCHS', value: '3' }, { name: 'HF_TOKEN', value: '[redacted]' }]);
    expect(out.requestParameters.a.env[0]).toBe(env[0]);
    expect(out.requestParameters.b).toBe(rec.requestParameters.b);
    expect(out.requestParameters.a.environment).toBe(rec.requestParameters.a.environment);
    expect(out.requestParameters.tags).toBe(rec.requestParameters.tags);
    expect(env[1]!.value).toBe('cow-1');
    const clean = { requestParameters: { a: { env: [env[0]] }, tags: [{ Key: 'team', Value: 'r' }], huggingFaceAccessToken: '' } };
    expect(redactJobSecrets(clean)).toBe(clean);
    const map = { LR: '0.1', EPOCHS: 3 };
    expect(redactValueMap(map)).toBe(map);
    expect(redactValueMap({ ...map, DB_PASSWORD: 'cow-2' })).toEqual({ ...map, DB_PASSWORD: '[redacted]' });
    const tags = { team: 'r', note: 'fine' };
    expect(redactTagMap(tags)).toBe(tags);
    const list = [{ key: 'team', value: 'r' }, { key: 'api_token', value: 'cow-3' }];
    const shown = redactTagList(list);
    expect(shown).toEqual([{ key: 'team', value: 'r' }, { key: 'api_token', value: '[redacted]' }]);
    expect(shown[0]).toBe(list[0]);
    const job = { environment: { PIP_INDEX_URL: 'https://u:cow-4@pypi.example.com/simple', EPOCHS: '3' }, command: ['pip', 'install', 'x'], other: { deep: [1, 2] } };
    const pkg = redactPackageSourceSecrets(job);
    expect(pkg.environment).toEqual({ PIP_INDEX_URL: 'https://[redacted]@pypi.example.com/simple', EPOCHS: '3' });
    expect(pkg.command).toBe(job.command);
    expect(pkg.other).toBe(job.other);
    const noCreds = { environment: { PIP_INDEX_URL: 'https://pypi.example.com/simple' }, command: ['pip', 'install', '--index-url', 'https://pypi.example.com/simple', 'x'] };
    expect(redactPackageSourceSecrets(noCreds)).toBe(noCreds);
    const creds = redactPackageSourceSecrets({ args: ['pip', 'install', '--index-url', 'https://u:cow-5@pypi.example.com/simple', 'x'] });
    expect(creds.args).toEqual(['pip', 'install', '--index-url', 'https://[redacted]@pypi.example.com/simple', 'x']);
  });
});
