import { arr, isObj, str, uniq, type Obj } from './util.js';

/**
 * Who a resource policy or an S3 ACL lets in, as the rules name grantees (`platform.artifact_shared`):
 * an AWS account id, a principal ARN, an organization id (`o-…`), `*` for everyone, `canonical:<id>` /
 * `email:<address>` for ACL grantees. AWS service principals are left out: they act for the owner.
 */

const MAX_STATEMENTS = 100;

/** A policy document, given as the object CloudTrail records (PutBucketPolicy) or as its JSON text (PutModelPackageGroupPolicy). */
function policyDocument(policy: unknown): Obj | undefined {
  if (isObj(policy)) return policy;
  if (typeof policy !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(policy);
    return isObj(parsed) ? parsed : undefined;
  } catch {
    return undefined; // not JSON (truncated by CloudTrail): no grantee can be read
  }
}

/**
 * The values a condition block requires a key to have (`StringEquals`, `ForAnyValue:StringLike`…). A negated
 * operator (`StringNotEquals`: every account but these), `…IfExists` and `ForAllValues:…` (true for a caller
 * without the key: an anonymous one) and `Null` (only whether the key is there) narrow nothing: left out.
 */
function conditionValues(condition: unknown, key: string): string[] {
  if (!isObj(condition)) return [];
  const out: string[] = [];
  for (const [operator, op] of Object.entries(condition)) {
    if (!isObj(op) || /Not|IfExists$|^ForAllValues:|^Null$/.test(operator)) continue;
    for (const [k, v] of Object.entries(op)) if (k.toLowerCase() === key) out.push(...(Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string'));
  }
  return out;
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string' && !!x);

/** The AWS principals of a `Principal` block, and its canonical users (a bucket policy may name one) as `canonical:<id>`. */
function principalsOf(p: Obj): string[] {
  return [...strings(p.AWS), ...strings(p.CanonicalUser).map((id) => `canonical:${id}`)];
}

/**
 * The principals the Allow statements of an IAM resource policy name. `*` narrowed by a condition on the
 * caller's account or organization (`aws:PrincipalAccount`, `aws:PrincipalOrgID`) is those accounts or that
 * organization, and narrowed to requests through access points (`s3:DataAccessPointAccount`, or
 * `s3:DataAccessPointArn`: its account) the account owning them; `*` narrowed otherwise (a source IP, or `StringNotEquals` on the account) is still everyone, and
 * so is an Allow with `NotPrincipal`.
 *
 * @example
 * policyGrantees('{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"sagemaker:DescribeModelPackage"}]}')
 * // ['arn:aws:iam::444455556666:root']
 */
export function policyGrantees(policy: unknown): string[] {
  const doc = policyDocument(policy);
  if (!doc) return [];
  const statements = (Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement]).filter(isObj).slice(0, MAX_STATEMENTS);
  const out: string[] = [];
  for (const s of statements) {
    if (s.Effect !== 'Allow') continue;
    const p = s.Principal;
    // Allow with NotPrincipal lets in every principal but those named, anonymous ones too.
    const named = s.NotPrincipal !== undefined ? ['*'] : p === '*' ? ['*'] : isObj(p) ? principalsOf(p) : [];
    for (const who of named) {
      if (who !== '*') {
        out.push(who);
        continue;
      }
      const narrowed = [
        ...conditionValues(s.Condition, 'aws:principalaccount'),
        ...conditionValues(s.Condition, 'aws:principalorgid'),
        // Access delegated to access points (S3's recommended bucket policy): the account owning them decides who
        // gets in, through their own policies; that account is the grantee (another one's access points: a share).
        ...conditionValues(s.Condition, 's3:dataaccesspointaccount'),
        ...conditionValues(s.Condition, 's3:dataaccesspointarn').map((arn) => /^arn:aws[a-z-]*:s3:[^:]*:(\d{12}):accesspoint/.exec(arn)?.[1] ?? arn),
      ];
      out.push(...(narrowed.length ? narrowed : ['*']));
    }
  }
  return uniq(out);
}

const PUBLIC_GROUPS = /\/groups\/global\/(AllUsers|AuthenticatedUsers)$/;
const PUBLIC_CANNED = new Set(['public-read', 'public-read-write', 'authenticated-read']);

/** A request parameter under any of its spellings (CloudTrail keeps S3's XML names; some senders lower-case them). */
function param(o: Obj, ...keys: string[]): unknown {
  for (const k of keys) if (o[k] !== undefined) return o[k];
  return undefined;
}

/** The first value of a header-style parameter (`x-amz-acl: ["public-read"]` or a plain string). */
function headerValue(v: unknown): string | undefined {
  return str(Array.isArray(v) ? v[0] : v);
}

/**
 * Who a PutBucketAcl / PutObjectAcl grants to besides the owner: everyone for the AllUsers and
 * AuthenticatedUsers groups and the public canned ACLs, else each canonical user other than the owner
 * and each e-mail grantee. The `x-amz-grant-*` headers name grantees as `id="…"`, `uri="…"`, `emailAddress="…"`.
 */
export function aclGrantees(params: Obj): string[] {
  const out: string[] = [];
  if (PUBLIC_CANNED.has(headerValue(param(params, 'x-amz-acl')) ?? '')) out.push('*');
  const policy = param(params, 'AccessControlPolicy', 'accessControlPolicy');
  const acp = isObj(policy) ? policy : {};
  const owner = str(isObj(param(acp, 'Owner', 'owner')) ? (param(acp, 'Owner', 'owner') as Obj).ID : undefined);
  const list = param(acp, 'AccessControlList', 'accessControlList');
  const grants = isObj(list) ? param(list, 'Grant', 'grant') : undefined;
  for (const g of (Array.isArray(grants) ? grants : [grants]).filter(isObj).slice(0, MAX_STATEMENTS)) {
    const grantee = param(g, 'Grantee', 'grantee');
    if (!isObj(grantee)) continue;
    const uri = str(param(grantee, 'URI', 'uri'));
    const id = str(param(grantee, 'ID', 'id'));
    const email = str(param(grantee, 'EmailAddress', 'emailAddress'));
    if (uri && PUBLIC_GROUPS.test(uri)) out.push('*');
    else if (id && id !== owner) out.push(`canonical:${id}`);
    else if (email) out.push(`email:${email}`);
  }
  for (const h of ['x-amz-grant-read', 'x-amz-grant-read-acp', 'x-amz-grant-write', 'x-amz-grant-write-acp', 'x-amz-grant-full-control']) {
    for (const m of (headerValue(params[h]) ?? '').matchAll(/(id|uri|emailAddress)="?([^",]+)"?/gi)) {
      const [, kind, value] = m;
      if (kind!.toLowerCase() === 'uri') {
        if (PUBLIC_GROUPS.test(value!)) out.push('*');
      } else if (kind!.toLowerCase() === 'id') {
        if (value !== owner) out.push(`canonical:${value}`);
      } else out.push(`email:${value}`);
    }
  }
  return uniq(out);
}

/** The account owning a bucket, as the record's `resources[]` name it (`AWS::S3::Bucket` with that ARN). */
export function bucketOwner(r: Obj, bucket: string | undefined): string | undefined {
  if (!bucket) return undefined;
  const res = arr(r.resources).filter(isObj).find((x) => (str(x.ARN) ?? str(x.arn)) === `arn:aws:s3:::${bucket}`);
  return res ? str(res.accountId) : undefined;
}
