import type { NormalizedEvent } from '../../schema/index.js';
import { anyGlob, eventScope, identityOf, normUri, UNIDENTIFIED } from '../facts.js';
import { endpointEntity, setting, type RuleContext } from './context.js';
import { approvalVerdict } from './served.js';

/**
 * An agent runtime deployment (Vertex AI Agent Engine): code — a pickle, its requirements and dependency archive, or
 * source — that a managed runtime loads and serves. It is no model version a registry approves, so teams deploy
 * agents without one; judged instead by where the code comes from:
 * - code under an approved model version's artifact (an agent registered and approved as a model) is vouched for;
 * - with `agent_sources` set (URI globs of release locations), code from anywhere else is a finding;
 * - without it, an engine's code moving to a location it was not deployed from before (an update re-pointing a
 *   running agent at another bucket or repository: the swap that turns a trusted agent into someone else's code).
 */

/** The engines' code locations, learned from their deployments (rule state). */
const LOCATIONS_KEPT = 20;

/** `gs://bucket`, a Developer Connect repository link, or `inline`: where a code location lives. */
function locationOf(uri: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/[^/]+)/i.exec(uri);
  if (m) return m[1]!.toLowerCase();
  return uri.replace(/@[^/@]*$/, '');
}

export function isAgentDeployment(ev: NormalizedEvent): boolean {
  return ev.resource?.type === 'reasoning_engine' && Array.isArray(ev.ml?.deployment?.code_uris);
}

export function judgeAgentDeployment(ev: NormalizedEvent, ctx: RuleContext, engine: string): void {
  const code = (ev.ml!.deployment!.code_uris as unknown[]).filter((c): c is string => typeof c === 'string');
  if (!code.length) return;
  const pickle = ev.ml?.model?.artifact_uri;
  if (pickle && approvalVerdict(ctx, { platform: ev.platform, artifact: normUri(pickle, ctx.cfg) }, [], ev.platform).approved.length) return;
  const allowed = setting<string[]>(ctx, 'agent_sources');
  const key = `agent|${ev.platform}|${engine}`;
  const known = ctx.get<string[]>(key);
  const locations = [...new Set(code.map(locationOf))];
  let offenders: string[];
  let reason: string;
  if (allowed.length) {
    offenders = code.filter((c) => !anyGlob(allowed, c));
    reason = 'agent_source_not_allowed';
  } else {
    // First deployment seen of this engine: its locations are learned, nothing to compare with.
    offenders = known ? code.filter((c) => !known.includes(locationOf(c))) : [];
    reason = 'agent_source_changed';
  }
  ctx.set(key, [...new Set([...(known ?? []), ...locations])].slice(-LOCATIONS_KEPT));
  if (!offenders.length) return;
  const deployer = identityOf(ev.actor, ctx.cfg);
  ctx.detect({
    entity: endpointEntity(ev, engine), key: `agent|${offenders.join(',')}`, evidence: [ev.id], time: ev.time,
    title: allowed.length ? 'Agent deployed from code outside the allowed sources' : 'Agent redeployed from code in another location',
    summary: `${deployer ?? UNIDENTIFIED} deployed agent ${engine} (${ev.platform}) from ${offenders.join(', ')}; ${allowed.length ? 'not under agent_sources, and no approved model version covers it' : `it was deployed from ${known!.join(', ')} before, and no approved model version covers the new code`}`,
    details: { deployed_code: code, offending_code: offenders, known_locations: allowed.length ? undefined : known, reason, deployer, ...eventScope(ev) },
  });
}
