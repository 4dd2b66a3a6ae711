import type { NormalizedEvent } from '../../schema/index.js';
import { anyGlob, eventScope, identityOf, normUri, UNIDENTIFIED } from '../facts.js';
import { endpointEntity, setting, type RuleContext } from './context.js';
import { approvalVerdict } from './served.js';

/**
 * An agent runtime deployment (Vertex AI Agent Engine): code — a pickle, its requirements and dependency archive, or
 * source — that a managed runtime loads and serves. It is no model version a registry approves, so teams deploy
 * agents without one; judged instead by where the code comes from:
 * - code under an approved model version's artifact (an agent registered and approved as a model) is vouched for,
 *   location by location (an approved pickle's requirements or dependency archive elsewhere are still judged);
 * - with `agent_sources` set (URI globs of release locations), code from anywhere else is a finding;
 * - without it, an engine's code moving to a location it was not deployed from before (an update re-pointing a
 *   running agent at another bucket or repository: the swap that turns a trusted agent into someone else's code),
 *   and an engine not seen before deployed from a location none of its project's engines used (teams creating a
 *   fresh engine per release from their staging bucket stay quiet; one created from someone else's bucket does not).
 * An inline source archive whose bytes the log does not carry (`inline`, as expected: audit requests leave out file
 * contents) cannot be checked: with `agent_sources` set it is a finding unless `inline` is listed.
 */

/** The engines' code locations, learned from their deployments (rule state). */
const LOCATIONS_KEPT = 20;
/** A project's, learned from all its engines: more teams, more buckets. */
const PROJECT_LOCATIONS_KEPT = 100;

/** `projects/<id>` of an engine's resource name, if it has one. */
const projectOf = (engine: string): string | undefined => /^(projects\/[^/]+)\//.exec(engine)?.[1];

/** A Developer Connect repository link, the rest of a Git source (`/{dir}@{revision}`) after it. */
const GIT_REPOSITORY = /^(projects\/[^/]+\/locations\/[^/]+\/connections\/[^/]+\/gitRepositoryLinks\/[^/@]+)/;
/** An inline archive known by its bytes' digest. */
const INLINE_DIGEST = /^inline:sha256:/;

/**
 * Where a code location lives, the scope whose owners vouch for what is in it: `gs://bucket` (whoever may write the
 * bucket), a Developer Connect repository link (whoever may push to it: a new commit, tag or directory of it is a
 * release of the same code base), an inline archive by its digest (it has no other provenance), `inline` for one
 * whose bytes were not logged.
 */
function locationOf(uri: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/[^/]+)/i.exec(uri);
  if (m) return m[1]!.toLowerCase();
  const git = GIT_REPOSITORY.exec(uri);
  if (git) return git[1]!;
  return INLINE_DIGEST.test(uri) ? uri : uri.replace(/@.*$/, '');
}

/**
 * A location as a project's engines are compared with it: a new engine's inline archive is new code by nature (no
 * running agent is swapped), so any inline archive is one location there.
 */
const projectLocationOf = (uri: string): string => (INLINE_DIGEST.test(uri) ? 'inline' : locationOf(uri));

/**
 * Whether `loc` is among the `known` locations. An archive whose bytes were not logged (`inline`) cannot be told from
 * an earlier inline archive, nor can an archive's digest from the archives of an engine seen only as `inline`. A
 * known `{link}/{dir}` (kept before locations were repository links) is its repository.
 */
function isKnown(known: readonly string[], loc: string): boolean {
  if (known.includes(loc)) return true;
  if (loc === 'inline') return known.some((k) => INLINE_DIGEST.test(k));
  if (INLINE_DIGEST.test(loc)) return known.includes('inline') && !known.some((k) => INLINE_DIGEST.test(k));
  return GIT_REPOSITORY.test(loc) && known.some((k) => k.startsWith(`${loc}/`));
}

export function isAgentDeployment(ev: NormalizedEvent): boolean {
  return ev.resource?.type === 'reasoning_engine' && Array.isArray(ev.ml?.deployment?.code_uris);
}

export function judgeAgentDeployment(ev: NormalizedEvent, ctx: RuleContext, engine: string): void {
  const all = (ev.ml!.deployment!.code_uris as unknown[]).filter((c): c is string => typeof c === 'string');
  if (!all.length) return;
  // Code under an approved model version's artifact is vouched for by that approval, each location on its own: an
  // approved pickle does not vouch for requirements or a dependency archive (code pip installs and the runtime
  // imports) fetched from elsewhere.
  const code = all.filter((c) => !approvalVerdict(ctx, { platform: ev.platform, artifact: normUri(c, ctx.cfg) }, [], ev.platform).approved.length);
  const allowed = setting<string[]>(ctx, 'agent_sources');
  const key = `agent|${ev.platform}|${engine}`;
  const known = ctx.get<string[]>(key);
  const project = projectOf(engine);
  const projectKey = project ? `agent-project|${ev.platform}|${project}` : undefined;
  const projectKnown = projectKey ? ctx.get<string[]>(projectKey) : undefined;
  // Every location deployed from is learned, vouched ones too: a later swap away from them is judged.
  const locations = [...new Set(all.map(locationOf))];
  const projectLocations = [...new Set(all.map(projectLocationOf))];
  // An inline archive the log does not carry: nothing says which code it is (details.agent_source_unverifiable).
  const unverifiable = ev.details?.agent_source_unverifiable === true ? true : undefined;
  let offenders: string[];
  let reason: string;
  // What the code is compared with: the engine's own locations, else (an engine not seen before) its project's.
  const compared = known ?? projectKnown;
  if (allowed.length) {
    offenders = code.filter((c) => !anyGlob(allowed, c));
    reason = 'agent_source_not_allowed';
  } else {
    // The first deployment seen in a project: its locations are learned, nothing to compare with.
    offenders = known ? code.filter((c) => !isKnown(known, locationOf(c))) : projectKnown ? code.filter((c) => !isKnown(projectKnown, projectLocationOf(c))) : [];
    reason = known ? 'agent_source_changed' : 'agent_source_new_to_project';
  }
  ctx.set(key, [...new Set([...(known ?? []), ...locations])].slice(-LOCATIONS_KEPT));
  if (projectKey) ctx.set(projectKey, [...new Set([...(projectKnown ?? []), ...projectLocations])].slice(-PROJECT_LOCATIONS_KEPT));
  if (!offenders.length) return;
  const deployer = identityOf(ev.actor, ctx.cfg);
  const before = allowed.length ? 'not under agent_sources' : known ? `it was deployed from ${known.join(', ')} before` : `the engines of ${project} were deployed from ${compared!.join(', ')} before`;
  ctx.detect({
    entity: endpointEntity(ev, engine), key: `agent|${offenders.join(',')}`, evidence: [ev.id], time: ev.time,
    title: allowed.length ? 'Agent deployed from code outside the allowed sources' : known ? 'Agent redeployed from code in another location' : 'Agent deployed from code in a location new to its project',
    summary: `${deployer ?? UNIDENTIFIED} deployed agent ${engine} (${ev.platform}) from ${offenders.join(', ')}; ${before}, and no approved model version covers ${allowed.length ? 'it' : 'the new code'}${unverifiable && offenders.includes('inline') ? ' (its inline source archive is not in the audit log: which code it is cannot be told)' : ''}`,
    details: {
      deployed_code: all, offending_code: offenders, known_locations: allowed.length ? undefined : compared, reason, deployer,
      revision: typeof ev.details?.agent_source_revision === 'string' ? ev.details.agent_source_revision : undefined,
      agent_source_unverifiable: unverifiable && offenders.includes('inline') ? true : undefined,
      ...eventScope(ev),
    },
  });
}
