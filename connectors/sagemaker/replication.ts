import { field, isObj, str, uniq, type Obj } from './util.js';

/**
 * Where a PutBucketReplication sends the bucket's objects (`platform.artifact_exported`): one destination per
 * enabled rule. CloudTrail records the request body as S3's XML read into JSON — `ReplicationConfiguration`
 * {`Role`, `Rule`: one object, or a list when there are several} with `Destination` {`Bucket` (an ARN),
 * `Account` (the destination bucket's owner, optional)}; the lower-camel spellings some senders use are read too.
 */

/** S3's own limit: at most 1,000 rules per replication configuration. */
const MAX_RULES = 1000;

export interface ReplicationDestination {
  /** The destination bucket's name (`arn:aws:s3:::name` → `name`). */
  bucket: string;
  /** Its owner, when the rule names it (`Destination.Account`). */
  account?: string;
  /** The key prefix the rule copies (`Filter.Prefix`, or a V1 rule's `Prefix`); replicas keep their keys. */
  prefix?: string;
}


/** A bucket named by ARN (`arn:aws:s3:::name`) or by name. */
function bucketName(v: unknown): string | undefined {
  const s = str(v);
  if (!s) return undefined;
  const m = /^arn:aws[a-z-]*:s3:::([^/]+)$/.exec(s);
  return m ? m[1] : s.startsWith('arn:') ? undefined : s;
}

/**
 * The enabled rules' destinations (a `Disabled` rule copies nothing).
 *
 * @example
 * replicationDestinations({ bucketName: 'models', ReplicationConfiguration: { Role: 'arn:aws:iam::111122223333:role/r',
 *   Rule: { Status: 'Enabled', Filter: { Prefix: 'fraud/' }, Destination: { Bucket: 'arn:aws:s3:::drop', Account: '444455556666' } } } })
 * // [{ bucket: 'drop', account: '444455556666', prefix: 'fraud/' }]
 */
export function replicationDestinations(params: Obj): ReplicationDestination[] {
  const config = field(params, 'ReplicationConfiguration');
  if (!isObj(config)) return [];
  const rules = field(config, 'Rule') ?? field(config, 'Rules');
  const out: ReplicationDestination[] = [];
  for (const rule of (Array.isArray(rules) ? rules : [rules]).filter(isObj).slice(0, MAX_RULES)) {
    if (str(field(rule, 'Status'))?.toLowerCase() === 'disabled') continue;
    const dest = field(rule, 'Destination');
    const bucket = isObj(dest) ? bucketName(field(dest, 'Bucket')) : undefined;
    if (!bucket) continue;
    const filter = field(rule, 'Filter');
    const prefix = str(isObj(filter) ? field(filter, 'Prefix') : undefined) ?? str(field(rule, 'Prefix'));
    out.push({ bucket, account: str(field(dest as Obj, 'Account')), prefix });
  }
  return out;
}

/** The one account all the destinations name, if they all name the same one (else the owner is not known for all). */
export function soleAccount(dests: ReplicationDestination[]): string | undefined {
  const accounts = uniq(dests.map((d) => d.account));
  return accounts.length === 1 && dests.every((d) => d.account) ? accounts[0] : undefined;
}
