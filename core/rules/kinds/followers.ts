import type { NormalizedEvent } from '../../schema/index.js';
import type { Entity } from '../baseline.js';
import { namedEntity, scopedName, type ModelRef } from '../facts.js';
import { MAX_ALERT_EVIDENCE, type DetectionInput, type RuleContext } from './context.js';
import { loadTimeUri } from './shared.js';

/** Deployments an alert of several names at most (`details.deployments`); `details.deployments_count` counts them all. */
export const MAX_LISTED_DEPLOYMENTS = 100;
/** Deployments named in the summary of such an alert (the rest are in `details.deployments`). */
const NAMED_IN_SUMMARY = 5;

interface Followed {
  d: DetectionInput;
  /** The deployment's endpoint (its entity id) and its deployment event. */
  deployment: string;
  event?: string;
}

/**
 * The findings of the live deployments that follow one registry event. Every deployment of `models:/<name>@<alias>`
 * or `models:/<name>/<stage>` loads what the alias or stage names, so one move (an alias set, a stage transition, a
 * version created, rejected or deleted, a rename) changes them all at once: judged one by one, 500 KServe deployments
 * following `@canary` made 500 alerts of one move, which buried it. Each deployment is still judged as before; its
 * detections are collected here and said once per finding (the same URI, rule key, title and reason): one deployment's
 * as before, several as one alert on the alias or stage they follow (entity `model_alias` `fraud@canary` /
 * `model_stage` `fraud/Production`, as registry.version_rollback names an approval alias), with the first
 * deployment's details, `details.deployments` (the first MAX_LISTED_DEPLOYMENTS endpoints) and
 * `details.deployments_count`, and each deployment's event in the evidence up to the alert's cap. The engine's
 * suppression (rule, entity, key) then holds a repeat of the same move as for any finding.
 *
 * @example
 * const found = new FollowerFindings(ctx, ev);
 * for (const w of watches) judge(w, found.judging(w.ref));
 * found.flush();
 */
export class FollowerFindings {
  private readonly groups = new Map<string, { ref: ModelRef; items: Followed[] }>();

  constructor(
    private readonly ctx: RuleContext,
    private readonly ev: NormalizedEvent,
  ) {}

  /** A context for judging one deployment of `ref` (a load-time reference): its detections are kept for flush. */
  judging(ref: ModelRef): RuleContext {
    return {
      ...this.ctx,
      detect: (d) => {
        const reason = d.details?.reason ?? d.details?.via ?? '';
        const k = `${ref.mlflowServer ?? ''}\u0001${loadTimeUri(ref)}\u0001${d.key ?? ''}\u0001${d.title}\u0001${String(reason)}`;
        let g = this.groups.get(k);
        if (!g) this.groups.set(k, (g = { ref, items: [] }));
        const event = d.details?.deployment_event;
        g.items.push({ d, deployment: d.entity.id, event: typeof event === 'string' ? event : undefined });
      },
    };
  }

  /** Say what was collected: one detection per finding. */
  flush(): void {
    for (const { ref, items } of this.groups.values()) {
      // One deployment's detections stay its own (entity the endpoint), as they were before any grouping.
      if (new Set(items.map((i) => i.deployment)).size === 1) for (const i of items) this.ctx.detect(i.d);
      else this.ctx.detect(this.merged(ref, items));
    }
    this.groups.clear();
  }

  private merged(ref: ModelRef, items: Followed[]): DetectionInput {
    const first = items[0]!.d;
    const deployments = [...new Set(items.map((i) => i.deployment))];
    const depEvents = [...new Set(items.flatMap((i) => (i.event ? [i.event] : [])))];
    // The first deployment's other evidence (a rejection, the event since which it served what it did), then every
    // deployment's event as room allows, the registry event that moved them all last (kept when the engine caps).
    const shared = first.evidence.filter((id) => id !== this.ev.id && !depEvents.includes(id));
    const room = Math.max(0, MAX_ALERT_EVIDENCE - shared.length - 1);
    const evidence = [...new Set([...shared, ...depEvents.slice(0, room), this.ev.id])];
    const uri = loadTimeUri(ref);
    const others = deployments.slice(1);
    const named = others.slice(0, NAMED_IN_SUMMARY).join(', ');
    const more = others.length > NAMED_IN_SUMMARY ? `, … ${others.length - NAMED_IN_SUMMARY} more in details.deployments` : '';
    return {
      ...first,
      entity: followedEntity(ref, this.ev.platform),
      evidence,
      summary: `${first.summary} — and so ${others.length > 1 ? `do ${others.length} other live deployments` : 'does 1 other live deployment'} of ${uri} (${named}${more})`,
      details: { ...first.details, deployments: deployments.slice(0, MAX_LISTED_DEPLOYMENTS), deployments_count: deployments.length },
    };
  }
}

/** The alias or stage several deployments follow, as an alert's entity: `fraud@canary`, `fraud/Production` (a configured MLflow server's prefixed). */
function followedEntity(ref: ModelRef, platform: string): Entity {
  const name = ref.name ?? '';
  return ref.stage
    ? namedEntity('model_stage', `${scopedName(name, ref.mlflowServer)}/${ref.stage}`, name, platform)
    : namedEntity('model_alias', `${scopedName(name, ref.mlflowServer)}@${ref.alias ?? ''}`, name, platform);
}
