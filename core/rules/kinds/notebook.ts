import type { NormalizedEvent } from '../../schema/index.js';
import { anyGlob, callerText, identityOf } from '../facts.js';
import { untrustedCode } from './code-locations.js';
import { isAllowedSource } from './packages.js';
import { setting, type KindImpl, type RuleContext } from './context.js';

/** Openers kept per Studio user profile: a profile opened by more identities than this forgets its first ones. */
const MAX_OPENERS = 20;

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && !!x) : []);
const text = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

/**
 * `platform.notebook_exposure`: the notebook as a workbench for an intruder or insider — a lifecycle configuration
 * (notebook instance OnCreate / OnStart, Studio) whose scripts fetch code from outside `trusted_code_locations` or
 * packages from outside `allowed_package_sources`, or pipe a download into a shell; a notebook instance created with
 * root access and no VPC (so with direct internet access), or given root access later; a Studio login URL minted
 * for a user profile by an identity that is not its user. Callers in `exempt` (identities, or role ARNs their
 * session is of) are not judged.
 */
export const notebookExposure: KindImpl = (ev, ctx) => {
  if (ev.outcome === 'failure') return;
  const who = identityOf(ev.actor, ctx.cfg);
  // By identity, or by the role a session is of (a launcher's sessions are named after whatever calls it).
  const exempt = setting<string[]>(ctx, 'exempt');
  if ((who && anyGlob(exempt, who)) || (ev.actor?.session_issuer && anyGlob(exempt, ev.actor.session_issuer))) return;
  if (ev.details?.lifecycle_scripts === true && /\.(create|update)$/.test(ev.action)) judgeScripts(ev, ctx);
  if (ev.operation === 'CreateNotebookInstance' || ev.operation === 'UpdateNotebookInstance') judgeInstance(ev, ctx);
  if (strings(ev.details?.studio_lifecycle_config_arns).length) judgeStudioDefaults(ev, ctx);
  if (ev.operation === 'CreatePresignedDomainUrl') judgeLogin(ev, ctx, who);
};

/** What a lifecycle configuration's scripts fetch and run, as learned from its Create/Update (event details `script_*`). */
interface ScriptFacts {
  code_uris: string[];
  piped: string[];
  package_sources: string[];
  hooks: string[];
  account?: string;
}

/** What a script write's facts break of the settings: the reasons, the offending locations, those piped, the foreign sources. */
interface ScriptFindings {
  reasons: string[];
  offenders: string[];
  piped: string[];
  foreign: string[];
}

/** Downloads and package sources judged as a job's code and packages; a download run unread whether or not a trusted list is set. */
function scriptFindings(f: ScriptFacts, ctx: RuleContext): ScriptFindings {
  const trusted = setting<string[]>(ctx, 'trusted_code_locations');
  const reasons: string[] = [];
  const offenders: string[] = [];
  // Run sight unseen at every start (as root on a notebook instance): judged whether or not a trusted list is set.
  const piped = f.piped.filter((u) => !anyGlob(trusted, u));
  for (const u of piped) {
    reasons.push(`downloads ${u} and runs it unread (piped into a shell, saved and run, or a post-startup script from the internet)`);
    offenders.push(u);
  }
  for (const { uri, reason } of untrustedCode(f.code_uris.filter((u) => !piped.includes(u)), f.account, trusted)) {
    reasons.push(reason);
    offenders.push(uri);
  }
  const foreign = f.package_sources.filter((s) => !isAllowedSource(s, setting<string[]>(ctx, 'allowed_package_sources'), setting<string[]>(ctx, 'allowed_conda_channels')));
  for (const s of foreign) {
    reasons.push(s.startsWith('conda:') ? `packages from conda channel ${s.slice(6)}, not in allowed_conda_channels` : `packages from ${s}, not an allowed package source`);
    offenders.push(s);
  }
  return { reasons, offenders, piped, foreign };
}

/**
 * Where a lifecycle configuration's facts are kept, to judge the instances, domains, profiles and spaces later
 * attaching it: a notebook instance's by name (UpdateNotebookInstance names it so), a Studio one by ARN.
 */
function scriptsKey(ev: NormalizedEvent, studio: boolean, ref: string): string {
  return studio ? `lc|studio|${ref.toLowerCase()}` : `lc|nb|${ev.cloud?.account ?? ''}:${ev.cloud?.region ?? ''}:${ref.toLowerCase()}`;
}

/** A lifecycle configuration's scripts: learned for what attaches it later, and judged. */
function judgeScripts(ev: NormalizedEvent, ctx: RuleContext): void {
  const d = ev.details ?? {};
  const facts: ScriptFacts = { code_uris: strings(d.script_code_uris), piped: strings(d.script_piped_to_shell), package_sources: strings(d.script_package_sources), hooks: strings(d.script_hooks), account: ev.cloud?.account };
  // Learned whatever they hold (an update to clean scripts replaces dirty ones); Workbench scripts are attached by no other call.
  const studio = ev.resource?.type === 'studio_lifecycle_config';
  const ref = studio ? ev.resource?.id : ev.resource?.type === 'notebook_instance_lifecycle_config' ? ev.resource?.name : undefined;
  if (ref) ctx.set(scriptsKey(ev, studio, ref), facts);
  const { reasons, offenders, piped, foreign } = scriptFindings(facts, ctx);
  if (!reasons.length) return;
  const name = ev.resource?.name ?? ev.resource?.id ?? 'a lifecycle configuration';
  ctx.detect({
    entity: { type: ev.resource?.type ?? 'lifecycle_config', id: ev.resource?.id ?? name, platform: ev.platform },
    key: `script|${[...offenders].sort().join(',')}`,
    evidence: [ev.id],
    title: 'Notebook lifecycle script runs code from an untrusted place',
    summary: `${name} (${ev.operation}) by ${callerText(ev.actor, ctx.cfg)}: ${reasons.join('; ')}`,
    details: {
      finding: 'untrusted_lifecycle_script', operation: ev.operation, lifecycle_config: name, hooks: facts.hooks,
      code_uris: offenders.filter((o) => !foreign.includes(o)), piped_to_shell: piped.length ? piped : undefined, package_sources: foreign.length ? foreign : undefined,
      identity: identityOf(ev.actor, ctx.cfg),
    },
  });
}

/**
 * A lifecycle configuration learned as untrusted, attached by this event to `target` (a notebook instance, a Studio
 * domain's defaults, a user profile, a space): its scripts now run there at every start. Configurations never seen
 * written are not judged (the trail may begin after them).
 */
function judgeAttached(ev: NormalizedEvent, ctx: RuleContext, attached: Array<{ ref: string; studio: boolean }>, target: string): void {
  const bad: Array<{ name: string; findings: ScriptFindings; hooks: string[] }> = [];
  for (const { ref, studio } of attached) {
    const facts = ctx.get<ScriptFacts>(scriptsKey(ev, studio, ref));
    if (!facts) continue;
    const findings = scriptFindings(facts, ctx);
    if (findings.reasons.length) bad.push({ name: studio ? ref.split('/').pop() ?? ref : ref, findings, hooks: facts.hooks });
  }
  if (!bad.length) return;
  const offenders = [...new Set(bad.flatMap((b) => b.findings.offenders))];
  const piped = [...new Set(bad.flatMap((b) => b.findings.piped))];
  const foreign = [...new Set(bad.flatMap((b) => b.findings.foreign))];
  ctx.detect({
    entity: { type: ev.resource?.type ?? 'notebook_instance', id: ev.resource?.id ?? ev.resource?.name ?? target, platform: ev.platform },
    key: `attach|${bad.map((b) => b.name).sort().join(',')}|${[...offenders].sort().join(',')}`,
    evidence: [ev.id],
    title: 'Notebook lifecycle script from an untrusted place attached',
    summary: `${ev.operation} by ${callerText(ev.actor, ctx.cfg)} attaches ${bad.map((b) => b.name).join(', ')} to ${target}, run at every start: ${bad.flatMap((b) => b.findings.reasons).join('; ')}`,
    details: {
      finding: 'untrusted_lifecycle_script', operation: ev.operation, attached_to: target, lifecycle_config: bad.map((b) => b.name).join(','), lifecycle_configs: bad.map((b) => b.name),
      hooks: [...new Set(bad.flatMap((b) => b.hooks))], code_uris: offenders.filter((o) => !foreign.includes(o)), piped_to_shell: piped.length ? piped : undefined,
      package_sources: foreign.length ? foreign : undefined, identity: identityOf(ev.actor, ctx.cfg),
    },
  });
}

/** What a Studio domain's defaults, a user profile or a space write attaches, or a Studio app is started with (CreateApp): Studio lifecycle configurations learned as untrusted. */
function judgeStudioDefaults(ev: NormalizedEvent, ctx: RuleContext): void {
  const arns = strings(ev.details?.studio_lifecycle_config_arns);
  const d = ev.details ?? {};
  // CreateApp: the app starts now with the configuration its ResourceSpec names (the attach, as a default's would be).
  const app = ev.operation === 'CreateApp'
    ? `${text(d.app_type) ?? 'Studio'} app ${text(d.app_name) ?? ev.resource?.name ?? '?'} of ${text(d.space_name) ? `space ${text(d.space_name)}` : `user profile ${text(d.user_profile_name) ?? '?'}`} (domain ${text(d.domain_id) ?? '?'})`
    : undefined;
  const what = app ?? (/Domain$/.test(ev.operation ?? '') ? `the defaults of every user and space of domain ${ev.resource?.name ?? ev.resource?.id ?? '?'}` : `${ev.resource?.type === 'space' ? 'space' : 'user profile'} ${ev.resource?.name ?? ev.resource?.id ?? '?'}`);
  judgeAttached(ev, ctx, arns.map((ref) => ({ ref, studio: true })), what);
}

/** What a notebook instance was seen created or updated with. */
interface InstanceState {
  /** Created without a subnet: direct internet access. Unknown when its creation was not seen. */
  noVpc?: boolean;
  root?: string;
  role?: string;
  lc?: string;
}

/**
 * A notebook instance with root access and no VPC subnet: SageMaker gives an instance without a subnet direct
 * internet access (the API takes DirectInternetAccess Disabled only with a subnet), and RootAccess defaults to
 * Enabled, so whoever opens it is root on a host that can reach anywhere with the notebook role's credentials.
 * An update of such an instance (seen created without a subnet) that turns root access on, swaps its role or its
 * lifecycle configuration is judged as its creation was, with what the update does not say taken from what was seen.
 * A lifecycle configuration the create or update attaches is judged by its scripts when they were seen written.
 */
function judgeInstance(ev: NormalizedEvent, ctx: RuleContext): void {
  const d = ev.details ?? {};
  const name = ev.resource?.name;
  if (!name || anyGlob(setting<string[]>(ctx, 'exempt_notebooks'), name)) return;
  const key = `nb|${ev.cloud?.account ?? ''}:${ev.cloud?.region ?? ''}:${name.toLowerCase()}`;
  const create = ev.operation === 'CreateNotebookInstance';
  const prev = create ? {} : (ctx.get<InstanceState>(key) ?? {});
  // An update says only what it changes (UpdateNotebookInstance takes no subnet nor DirectInternetAccess).
  const state: InstanceState = {
    noVpc: create ? !text(d.subnet_id) : prev.noVpc,
    root: text(d.root_access) ?? prev.root,
    role: text(d.role_arn) ?? prev.role,
    lc: d.disassociate_lifecycle_config === true ? undefined : (text(d.lifecycle_config_name) ?? prev.lc),
  };
  ctx.set(key, state);
  const attached = text(d.lifecycle_config_name);
  if (attached) judgeAttached(ev, ctx, [{ ref: attached, studio: false }], `notebook instance ${name}`);
  // What the update changes of the exposure: root turned on, another role, another (or no) lifecycle configuration.
  const changed = create ? [] : [
    ...(d.root_access === 'Enabled' ? ['root_access'] : []),
    ...(text(d.role_arn) && text(d.role_arn) !== prev.role ? ['role_arn'] : []),
    ...(attached && attached !== prev.lc ? ['lifecycle_config_name'] : []),
    ...(d.disassociate_lifecycle_config === true ? ['disassociate_lifecycle_config'] : []),
    ...(d.direct_internet_access === 'Enabled' ? ['direct_internet_access'] : []),
  ];
  const open = state.noVpc === true && state.root !== 'Disabled' && (create || changed.length > 0);
  if (!open) return;
  const verb = create ? 'was created' : d.root_access === 'Enabled' && changed.length === 1 ? 'was given root access' : `was updated (${changed.join(', ')})`;
  ctx.detect({
    entity: { type: 'notebook_instance', id: ev.resource?.id ?? name, platform: ev.platform },
    // A later update is another finding than the creation (a role swapped minutes after creation is not suppressed by it).
    key: create ? 'root_internet_no_vpc' : `root_internet_no_vpc|${changed.join(',')}|${state.role ?? ''}|${state.lc ?? ''}`,
    evidence: [ev.id],
    title: 'Notebook instance with root access and direct internet access, outside a VPC',
    summary: `notebook instance ${name} ${verb} by ${callerText(ev.actor, ctx.cfg)} with root access and no VPC subnet (direct internet access)${state.role ? `, role ${state.role}` : ''}${state.lc ? `, lifecycle configuration ${state.lc}` : ''}`,
    details: {
      finding: 'root_internet_no_vpc', operation: ev.operation, notebook_instance: name, root_access: state.root ?? 'Enabled (default)',
      direct_internet_access: text(d.direct_internet_access) ?? 'Enabled (default)', role_arn: state.role, lifecycle_config_name: state.lc,
      changed: changed.length ? changed : undefined, previous_role_arn: changed.includes('role_arn') ? prev.role : undefined,
      identity: identityOf(ev.actor, ctx.cfg),
    },
  });
}

/** A name as compared with a user profile's: lower case, an e-mail's local part, letters and digits only. */
function plainName(s: string): string {
  return s.toLowerCase().replace(/@.*$/, '').replace(/[^a-z0-9]/g, '');
}

/**
 * The caller's own names: the identity (a role session name only where identityOf reads it as the person: not when
 * the AssumeRole record named who took the session, `--role-session-name` being the assumer's free choice), its
 * e-mail, and the IAM user name of an IAM user's ARN. A role's name with its session (`actor.name`, `Role/session`)
 * is no one's name.
 */
function callerNames(ev: NormalizedEvent, who: string | undefined): string[] {
  const a = ev.actor;
  const user = [a?.id].map((x) => (x ? /^arn:aws[a-z-]*:iam::\d*:user\/(?:.*\/)?([^/]+)$/.exec(x)?.[1] : undefined));
  return [who, a?.email, ...user].filter((x): x is string => !!x).map(plainName).filter((x) => x.length > 0);
}

/**
 * CreatePresignedDomainUrl for a user profile: a login link into that user's Studio, with their execution role.
 * Its own user opening it (the caller's name is the profile's) is the daily routine; so is an identity seen opening
 * it before (a launcher portal's role). A new identity, not named as the profile, opening a profile someone has opened
 * before (its user, or anyone) is the finding; a profile's first opener is learned (the trail may begin after its
 * user's first login).
 */
function judgeLogin(ev: NormalizedEvent, ctx: RuleContext, who: string | undefined): void {
  const d = ev.details ?? {};
  const profile = text(d.user_profile_name);
  if (!profile || !who) return;
  const own = plainName(profile);
  const key = `open|${ev.cloud?.account ?? ''}:${ev.cloud?.region ?? ''}:${text(d.domain_id) ?? ''}/${profile}`;
  const openers = ctx.get<string[]>(key) ?? [];
  if (openers.includes(who)) return;
  // Learned either way: the user's own opens make the profile known, so another's first open of it is judged.
  ctx.set(key, [...openers, who].slice(-MAX_OPENERS));
  // The same name, not a prefix: `bob` is not `bobby`'s user (nor `ml` every `ml-…` profile's). A user whose profile
  // is named otherwise (`alice` for alice.smith@…) is learned as its opener after one alert, or named in identities.aliases.
  if (callerNames(ev, who).includes(own)) return;
  if (!openers.length) return;
  ctx.detect({
    entity: { type: 'user_profile', id: text(d.user_profile_arn) ?? `${text(d.domain_id)}/${profile}`, platform: ev.platform },
    key: `login|${who}`,
    evidence: [ev.id],
    title: "Studio login URL minted for another user's profile",
    summary: `${who} minted a presigned Studio URL for user profile ${profile} (domain ${text(d.domain_id) ?? '?'})${ev.actor?.ip ? ` from ${ev.actor.ip}` : ''}; earlier opened by ${openers.join(', ')}`,
    details: {
      finding: 'opened_for_another_user', operation: ev.operation, identity: who, user_profile: profile, domain_id: text(d.domain_id), ip: ev.actor?.ip,
      known_openers: openers, session_expiration_seconds: typeof d.session_expiration_duration_in_seconds === 'number' ? d.session_expiration_duration_in_seconds : undefined,
    },
  });
}
