import { isObj, projectOf, str, type LogEntry } from './logentry.js';

/** `projects/{segment}/…`, optionally with a `//service.googleapis.com/` prefix. */
const PROJECT_SEGMENT = /^((?:\/\/[^/]+\/)?projects\/)([^/]+)(\/.*)?$/;
/** Project ids start with a letter; an all-digit project segment is always a project number. */
const PROJECT_NUMBER = /^\d+$/;

/** The project segment of a resource name, when it is a project number. */
function numberOf(name: string | undefined): string | undefined {
  const seg = name ? PROJECT_SEGMENT.exec(name)?.[2] : undefined;
  return seg && PROJECT_NUMBER.test(seg) ? seg : undefined;
}

/**
 * Vertex writes the same resource under two names: the service's own names
 * (`resourceName`, operation and response names, Model Monitoring jobs) carry
 * the project NUMBER, the caller's request fields usually the project ID. Rules
 * compare names, so one model would be two (an approval on `projects/123456/…/models/9`
 * never matches a deployment of `projects/p1/…/models/9`).
 *
 * The returned function rewrites a numeric project segment to the entry's project
 * ID (`resource.labels.project_id`, else the logName's project; project IDs never
 * are all digits). The entry's own number is learnt from the names that are
 * necessarily in the entry's project (`resourceName`, `response.name`,
 * `resource.labels.resource_container`): a different number is another project
 * and stays as written. When the entry pins no number, a numeric segment is taken
 * to be the entry's own project (SDKs write the number for the caller's own
 * resources; Vertex's numeric model/endpoint ids make a collision with another
 * project's resource practically impossible). Project IDs are never rewritten.
 *
 * @example
 * canonicalNames(entry)('projects/123456/locations/us-central1/models/9@1')
 * // 'projects/p1/locations/us-central1/models/9@1' for an entry of project p1
 */
export function canonicalNames(entry: LogEntry): Canon {
  const project = projectOf(entry);
  if (!project || PROJECT_NUMBER.test(project)) return (name) => name;
  const pp = isObj(entry.protoPayload) ? entry.protoPayload : {};
  const resp = isObj(pp.response) ? pp.response : {};
  const own = numberOf(str(pp.resourceName)) ?? numberOf(str(resp.name)) ?? numberOf(entry.resource?.labels?.resource_container);
  return (<T extends string | undefined>(name: T): T => {
    const m = name ? PROJECT_SEGMENT.exec(name) : null;
    if (!m || !PROJECT_NUMBER.test(m[2]!) || (own && m[2] !== own)) return name;
    return `${m[1]}${project}${m[3] ?? ''}` as T;
  }) as Canon;
}

/** A name rewriter: same type out as in (a string stays a string, undefined stays undefined). */
export type Canon = <T extends string | undefined>(name: T) => T;
