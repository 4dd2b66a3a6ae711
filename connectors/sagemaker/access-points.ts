import { arr, field, isObj, str, uniq, type Obj } from './util.js';

/**
 * S3 requests made through an access point name it where a bucket name goes: by ARN
 * (`arn:aws:s3:<region>:<account>:accesspoint/<name>`, objects `…/accesspoint/<name>/object/<key>`) or by its alias
 * (`<name>-<suffix>-s3alias`). CloudTrail lists the bucket behind it in the record's `resources[]`
 * (`AWS::S3::Bucket`, beside the `AWS::S3::AccessPoint`), so the export and share checks judge that bucket.
 */

const ACCESS_POINT_ARN = /^arn:aws[a-z-]*:s3:[a-z0-9-]*:\d{12}:accesspoint[/:][^/]+/;

/** Whether a bucket name is an access point (ARN or alias) rather than a bucket. */
export function isAccessPoint(name: string | undefined): boolean {
  return !!name && (ACCESS_POINT_ARN.test(name) || /-s3alias$/.test(name));
}

/**
 * The buckets a record's `resources[]` name, in order: an `AWS::S3::Bucket` (`arn:aws:s3:::bucket`), or the bucket
 * of an `AWS::S3::Object` (`arn:aws:s3:::bucket/key`) where a record lists the object alone.
 */
function resourceBuckets(r: Obj): string[] {
  return arr(r.resources)
    .filter(isObj)
    .map((x) =>
      x.type === 'AWS::S3::Bucket' ? /^arn:aws[a-z-]*:s3:::([^/]+)$/.exec(str(x.ARN) ?? str(x.arn) ?? '')?.[1]
      : x.type === 'AWS::S3::Object' ? /^arn:aws[a-z-]*:s3:::([^/]+)\//.exec(str(x.ARN) ?? str(x.arn) ?? '')?.[1]
      : undefined)
    .filter((b): b is string => !!b);
}

/**
 * The object a request through an access point names, in the form the rules name an artifact reached that way
 * (core/rules/facts.ts asS3Uri): its object ARN for an access point ARN, `s3://<alias>/<key>` for an alias.
 *
 * @example
 * accessPointObject('arn:aws:s3:us-east-1:111122223333:accesspoint/ap', 'm/model.tar.gz') // 'arn:aws:s3:us-east-1:111122223333:accesspoint/ap/object/m/model.tar.gz'
 */
export function accessPointObject(name: string | undefined, key: string | undefined): string | undefined {
  if (!name || !key || !isAccessPoint(name)) return undefined;
  const arn = ACCESS_POINT_ARN.exec(name)?.[0];
  return arn ? `${arn.replace(/:accesspoint:/, ':accesspoint/')}/object/${key}` : `s3://${name}/${key}`;
}

/**
 * The bucket a request reached: the name itself, or for an access point the one bucket of `resources[]` other
 * than `other` (a copy's other bucket; the only one, for a copy within a bucket). Undefined when that is not one
 * bucket (a copy from one access point to another: which bucket is which is not in the record).
 *
 * @example
 * bucketBehind({ resources: [{ type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::models' }] }, 'arn:aws:s3:us-east-1:111122223333:accesspoint/ap') // 'models'
 */
export function bucketBehind(r: Obj, name: string | undefined, other?: string): string | undefined {
  if (!isAccessPoint(name)) return name;
  const all = [...new Set(resourceBuckets(r))];
  const rest = all.filter((b) => b !== other);
  // A copy within one bucket lists it once: the access point is that bucket too.
  return rest.length === 1 ? rest[0] : all.length === 1 ? all[0] : undefined;
}

/**
 * A CopyObject's `x-amz-copy-source` as bucket (or access point) and key: `bucket/key`, `/bucket/key`, or an access
 * point object ARN, URL-encoded, with `?versionId=…` when a version is copied.
 */
export function copySourceOf(header: string | undefined): { bucket: string; key: string } | undefined {
  if (!header) return undefined;
  let decoded = header.replace(/\?versionId=.*$/, '');
  try {
    decoded = decodeURIComponent(decoded);
  } catch {
    // Not valid percent-encoding: kept as written.
  }
  decoded = decoded.replace(/^\//, '');
  const ap = /^(arn:aws[a-z-]*:s3:[a-z0-9-]*:\d{12}:accesspoint[/:][^/]+)\/object\/(.+)$/.exec(decoded);
  if (ap) return { bucket: ap[1]!, key: ap[2]! };
  if (decoded.startsWith('arn:')) return undefined;
  const slash = decoded.indexOf('/');
  if (slash <= 0) return decoded ? { bucket: decoded, key: '' } : undefined;
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1) };
}


/**
 * An S3 Control call on an access point (`CreateAccessPoint`, `PutAccessPointPolicy`, `DeleteAccessPoint`): the access
 * point's ARN (the record's region, the `x-amz-account-id` it was made for), the bucket it fronts (CreateAccessPoint's
 * `CreateAccessPointRequest.Bucket`), its alias (CreateAccessPoint's response `Alias`, where the record carries the
 * response) and the policy set (`PutAccessPointPolicyRequest.Policy`, JSON text). The policy names no bucket: which
 * one an access point fronts is known from its creation (see platform.artifact_shared).
 *
 * @example
 * accessPointCall({ awsRegion: 'us-east-1' }, 'CreateAccessPoint', { name: 'ap', 'x-amz-account-id': '111122223333', CreateAccessPointRequest: { Bucket: 'models' } })
 * // { arn: 'arn:aws:s3:us-east-1:111122223333:accesspoint/ap', bucket: 'models', policy: undefined, alias: undefined }
 */
export function accessPointCall(r: Obj, eventName: string, params: Obj): { arn: string; bucket?: string; policy?: unknown; alias?: string } | undefined {
  if (eventName !== 'CreateAccessPoint' && eventName !== 'PutAccessPointPolicy' && eventName !== 'DeleteAccessPoint') return undefined;
  const name = str(field(params, 'Name'));
  const account = str(params['x-amz-account-id']) ?? str(r.recipientAccountId);
  const region = str(r.awsRegion);
  if (!name) return undefined;
  const arn = ACCESS_POINT_ARN.test(name) ? accessPointArn(name) : account && region ? `arn:aws:s3:${region}:${account}:accesspoint/${name}` : undefined;
  if (!arn) return undefined;
  const body = field(params, `${eventName}Request`);
  const req = isObj(body) ? body : params;
  return { arn, bucket: str(field(req, 'Bucket')), policy: field(req, 'Policy'), alias: eventName === 'CreateAccessPoint' ? responseAlias(r.responseElements) : undefined };
}

/** An access point ARN in its slash form (`accesspoint/<name>`; S3 also takes `accesspoint:<name>`), else undefined. */
export function accessPointArn(name: string | undefined): string | undefined {
  const arn = name ? ACCESS_POINT_ARN.exec(name)?.[0] : undefined;
  return arn?.replace(/:accesspoint:/, ':accesspoint/');
}

/**
 * The alias a CreateAccessPoint response names (`CreateAccessPointResult.Alias`, `<name>-<suffix>-s3alias`), read
 * wherever a sender puts it: under the XML result element, or at the top of `responseElements`.
 */
function responseAlias(response: unknown): string | undefined {
  if (!isObj(response)) return undefined;
  const result = field(response, 'CreateAccessPointResult');
  const alias = str(field(isObj(result) ? result : response, 'Alias'));
  return alias && /-s3alias$/.test(alias) ? alias : undefined;
}

/**
 * Which bucket an access point fronts, as a record tells it: a request made through the access point (its ARN, or its
 * alias where the bucket goes) whose `resources[]` name the bucket behind it — and, for an alias, the access point's
 * ARN (`AWS::S3::AccessPoint`), when the record lists one — or a CreateAccessPoint. The rules keep it to judge an
 * object reached one way against an artifact named the other way (core/rules/kinds/access-point-map.ts).
 *
 * @example
 * accessPointBucket({ resources: [{ type: 'AWS::S3::AccessPoint', ARN: 'arn:aws:s3:us-east-1:111122223333:accesspoint/ap' }] }, 'ap-abc-s3alias', 'models')
 * // { arn: 'arn:aws:s3:us-east-1:111122223333:accesspoint/ap', alias: 'ap-abc-s3alias', bucket: 'models' }
 */
export function accessPointBucket(r: Obj, named: string | undefined, bucket: string | undefined): { arn?: string; alias?: string; bucket: string } | undefined {
  if (!bucket || isAccessPoint(bucket) || !isAccessPoint(named)) return undefined;
  const arn = accessPointArn(named);
  if (arn) return { arn, bucket };
  // An alias: the ARN is the record's one access point resource (two would be a copy between access points).
  const listed = uniq(arr(r.resources).filter(isObj).filter((x) => x.type === 'AWS::S3::AccessPoint').map((x) => accessPointArn(str(x.ARN) ?? str(x.arn))));
  return { arn: listed.length === 1 ? listed[0] : undefined, alias: named, bucket };
}
