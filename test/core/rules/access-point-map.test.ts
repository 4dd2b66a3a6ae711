import { describe, expect, it } from 'vitest';
import { RulesConfig } from '../../../core/rules/engine.js';
import { learnAccessPoint, MAX_MAPPINGS, MAX_PER_BUCKET, otherNames, pinAccessPoint } from '../../../core/rules/kinds/access-point-map.js';
import type { RuleContext } from '../../../core/rules/kinds/context.js';
import type { NormalizedEvent } from '../../../core/schema/index.js';

/** The access point map's state alone: a rule context over a Map (only what the map uses). */
function mapCtx() {
  const state = new Map<string, unknown>();
  const ctx = {
    cfg: RulesConfig.parse({}),
    get: (k: string) => structuredClone(state.get(k)),
    set: (k: string, v: unknown) => void state.set(k, structuredClone(v)),
    delete: (k: string) => void state.delete(k),
  } as unknown as RuleContext;
  return { ctx, state };
}
let n = 0;
const ap = (name: string) => `arn:aws:s3:us-east-1:111122223333:accesspoint/${name}`;
const event = (operation: string, details: Record<string, unknown>, action = 'resource.create') =>
  ({ id: `e${++n}`, time: new Date(Date.parse('2026-11-25T10:00:00Z') + n * 1000).toISOString(), platform: 'sagemaker', operation, action, cloud: { provider: 'aws', region: 'us-east-1' }, details }) as unknown as NormalizedEvent;
const created = (name: string, bucket: string) => event('CreateAccessPoint', { access_point: ap(name), access_point_bucket: { arn: ap(name), bucket } });
const write = event('PutObject', {}, 'data_object.write');
const uris = (ctx: RuleContext, uri: string) => otherNames(write, ctx, uri).map((o) => o.uri);

describe('the access point map, in rule state', () => {
  it('is bounded: beyond MAX_MAPPINGS access points one leaves (all buckets holding one: the first kept), its keys with it', () => {
    const { ctx, state } = mapCtx();
    learnAccessPoint(created('first-ap', 'models'), ctx);
    expect(uris(ctx, 's3://models/k')).toEqual([`${ap('first-ap')}/object/k`]);
    for (let i = 1; i < MAX_MAPPINGS; i++) learnAccessPoint(created(`ap-${i}`, `bucket-${i}`), ctx);
    expect(uris(ctx, 's3://models/k')).toEqual([`${ap('first-ap')}/object/k`]);
    learnAccessPoint(created('one-more-ap', 'bucket-x'), ctx);
    expect(uris(ctx, 's3://models/k')).toEqual([]);
    expect(uris(ctx, `${ap('first-ap')}/object/k`)).toEqual([]);
    expect(uris(ctx, `${ap('ap-1')}/object/k`)).toEqual(['s3://bucket-1/k']);
    // One key per bucket list and per name, and the order: no more than the bound allows.
    expect(state.size).toBeLessThanOrEqual(2 * MAX_MAPPINGS + 1);
  });

  it('a flood of access points on a few buckets pushes out its own, not the one access point of another bucket', () => {
    const { ctx } = mapCtx();
    learnAccessPoint(created('ml-ap', 'models'), ctx);
    for (let i = 0; i < MAX_MAPPINGS + 200; i++) learnAccessPoint(created(`flood-${i}`, `drop-${i % 25}`), ctx);
    expect(uris(ctx, 's3://models/k')).toEqual([`${ap('ml-ap')}/object/k`]);
    expect(uris(ctx, `${ap('ml-ap')}/object/k`)).toEqual(['s3://models/k']);
  });

  it('a record telling what is known already writes nothing; the alias joins the ARN it belongs to', () => {
    const { ctx, state } = mapCtx();
    learnAccessPoint(created('ml-ap', 'models'), ctx);
    const before = JSON.stringify([...state]);
    learnAccessPoint(event('GetObject', { access_point_bucket: { arn: ap('ml-ap'), bucket: 'models' } }, 'data_object.read'), ctx);
    expect(JSON.stringify([...state])).toBe(before);
    learnAccessPoint(event('GetObject', { access_point_bucket: { arn: ap('ml-ap'), alias: 'ml-ap-abc-s3alias', bucket: 'models' } }, 'data_object.read'), ctx);
    expect(uris(ctx, 's3://models/k')).toEqual([`${ap('ml-ap')}/object/k`, 's3://ml-ap-abc-s3alias/k']);
    expect(uris(ctx, 's3://ml-ap-abc-s3alias/k')).toEqual(['s3://models/k', `${ap('ml-ap')}/object/k`]);
    // Deleted: the names no longer map to the bucket; the bucket's writes still reach them, for versions approved before.
    learnAccessPoint(event('DeleteAccessPoint', { access_point: ap('ml-ap') }, 'resource.delete'), ctx);
    expect(uris(ctx, 's3://ml-ap-abc-s3alias/k')).toEqual([]);
    expect(otherNames(write, ctx, 's3://models/k').map((o) => [o.uri, typeof o.approved_before])).toEqual([[`${ap('ml-ap')}/object/k`, 'string'], ['s3://ml-ap-abc-s3alias/k', 'string']]);
  });

  it('an access point made again over another bucket (its deletion unseen) moves: the newer record wins', () => {
    const { ctx } = mapCtx();
    learnAccessPoint(created('ml-ap', 'models'), ctx);
    learnAccessPoint(created('ml-ap', 'other'), ctx);
    expect(uris(ctx, 's3://models/k')).toEqual([]);
    expect(uris(ctx, `${ap('ml-ap')}/object/k`)).toEqual(['s3://other/k']);
  });

  it('a bucket full of access points (MAX_PER_BUCKET): a new one takes the place of the least recently seen one not pinned (approved through)', () => {
    const { ctx } = mapCtx();
    for (let i = 0; i < MAX_PER_BUCKET; i++) learnAccessPoint(created(`ap-${i}`, 'models'), ctx);
    // ap-0 is pinned (an artifact was approved through it); ap-1 is told again a day later (a request through it).
    pinAccessPoint(ctx, `${ap('ap-0')}/object/k`);
    const day = new Date(Date.parse('2026-11-27T10:00:00Z')).toISOString();
    learnAccessPoint({ ...created('ap-1', 'models'), operation: 'PutObject', time: day } as NormalizedEvent, ctx);
    learnAccessPoint(created('new-1', 'models'), ctx);
    learnAccessPoint(created('new-2', 'models'), ctx);
    const names = uris(ctx, 's3://models/k');
    // The pinned ap-0 takes none of the 50 places: new-1 had room, new-2 took the place of one.
    expect(names).toHaveLength(MAX_PER_BUCKET + 1);
    expect(names).toContain(`${ap('new-1')}/object/k`);
    expect(names).toContain(`${ap('new-2')}/object/k`);
    expect(names).toContain(`${ap('ap-0')}/object/k`);
    expect(names).toContain(`${ap('ap-1')}/object/k`);
    // The least recently seen of those neither pinned nor told again left: ap-2.
    expect(names).not.toContain(`${ap('ap-2')}/object/k`);
    expect(names).toContain(`${ap('ap-3')}/object/k`);
    expect(uris(ctx, `${ap('ap-2')}/object/k`)).toEqual([]);
  });

  it('a bucket whose access points are all pinned keeps them, and a new one too (pinned ones take none of the places); unpinned ones made after it leave first', () => {
    const { ctx } = mapCtx();
    for (let i = 0; i < MAX_PER_BUCKET; i++) {
      learnAccessPoint(created(`ap-${i}`, 'models'), ctx);
      pinAccessPoint(ctx, `${ap(`ap-${i}`)}/object/k`);
    }
    learnAccessPoint(created('new-1', 'models'), ctx);
    expect(uris(ctx, 's3://models/k')).toContain(`${ap('new-1')}/object/k`);
    expect(uris(ctx, 's3://models/k')).toHaveLength(MAX_PER_BUCKET + 1);
    for (let i = 0; i < 60; i++) learnAccessPoint(created(`flood-${i}`, 'models'), ctx);
    const names = uris(ctx, 's3://models/k');
    expect(names).toHaveLength(2 * MAX_PER_BUCKET);
    for (let i = 0; i < MAX_PER_BUCKET; i++) expect(names).toContain(`${ap(`ap-${i}`)}/object/k`);
  });
});

