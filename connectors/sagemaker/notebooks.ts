/**
 * Notebook facts from CloudTrail requests: what a lifecycle configuration's scripts fetch and run (notebook instance
 * `OnCreate` / `OnStart`, Studio `StudioLifecycleConfigContent`: base64 shell scripts run at every create / start, as
 * root on a notebook instance), and how a notebook instance is exposed (root, internet, VPC, role, lifecycle config).
 */
import { packageSourceFactsOf } from '../../core/integrity/packages.js';
import { redactScriptText, redactUrlSecrets } from '../../core/secrets.js';
import { scriptRuns } from './script-runs.js';
import { arr, isObj, str, type Obj } from './util.js';

/** A base64 script longer than this (decoded) is not read: the API allows 16 384 characters per script. */
const MAX_SCRIPT = 64 * 1024;

/** One lifecycle script as the request carries it (base64), and the hook that runs it. */
export interface LifecycleScript {
  hook: 'on_create' | 'on_start' | 'studio';
  content: string;
}

/**
 * The scripts a lifecycle-configuration request carries: `onCreate[].content` / `onStart[].content`
 * (Create/UpdateNotebookInstanceLifecycleConfig) and `studioLifecycleConfigContent` (CreateStudioLifecycleConfig).
 */
export function lifecycleScriptsOf(params: Obj): LifecycleScript[] {
  const out: LifecycleScript[] = [];
  for (const [key, hook] of [['onCreate', 'on_create'], ['onStart', 'on_start']] as const) {
    for (const h of arr(params[key]).filter(isObj)) {
      const c = str(h.content);
      if (c) out.push({ hook, content: c });
    }
  }
  const studio = str(params.studioLifecycleConfigContent);
  if (studio) out.push({ hook: 'studio', content: studio });
  return out;
}

/** A script's text from its base64 (the API's encoding); undefined when it is no base64 text. */
function decodeScript(content: string): string | undefined {
  const word = content.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(word) || word.length > (MAX_SCRIPT * 4) / 3 + 4) return undefined;
  const text = Buffer.from(word, 'base64').toString('utf8');
  // Binary (or not base64 after all): nothing to read as a script.
  return /[\u0000-\u0008\u000e-\u001f]/.test(text) ? undefined : text;
}

/** What lifecycle scripts fetch and run, as event details say it (URLs with their credentials hidden). */
export interface ScriptFacts {
  /** Every location a script downloads from (`curl`/`wget` URLs, the source of `aws s3 cp|sync`, `gsutil cp`, `gcloud storage cp`, `git clone`). */
  code_uris: string[];
  /**
   * The downloads run sight unseen: piped straight into a shell or interpreter (`curl … | bash`, `bash <(curl …)`,
   * `sh -c "$(wget -O- …)"`), or saved and run later by the same script (`curl -o f URL && bash f`, `aws s3 cp s3://… f;
   * sh f`, `git clone URL d && cd d && ./install.sh`, `pip install` of a fetched file).
   */
  piped_to_shell: string[];
  /** Package indexes and requirement URLs pip / uv / conda install from (as `ml.job.package_sources`). */
  package_sources: string[];
  /** The hooks whose script holds a credential (a secret-named assignment, a token, a key): hidden in raw. */
  secret_in: string[];
}

/**
 * A URL written in a script line, up to a blank, quote, backquote or shell operator. A backslash escaping a quote or
 * backquote ends it too (`` `echo \`curl https://x/v\`` ``: the nested backquote's escape is the shell's, no
 * character of the URL, which kept a stray `\`).
 */
const URL_RE = /(?:https?|s3|gs):\/\/(?:[^\s'"`|;&)<>\\]|\\(?![`'"]))+/g;
/** A download's command: curl, wget, git clone (its URL is fetched and usually built or run). */
const FETCHER = /(?:^|[\s;&|(`$])(?:curl|wget|git\s+clone)\b/;
/** Copy commands whose first argument is the source: a cloud URL there is downloaded. */
const CLOUD_COPY = /(?:^|[\s;&|(`$])(?:aws\s+s3\s+(?:cp|sync)|gsutil\s+(?:-m\s+)?(?:cp|rsync)|gcloud\s+storage\s+(?:cp|rsync))\s+((?:-\S+\s+)*)(\S+)/g;
/** A pipe into a shell or interpreter: `| bash`, `| sudo -E sh`, `| python3 -`. */
const PIPE_TO_SHELL = /\|\s*(?:sudo\s+(?:-\S+\s+)*)?(?:env\s+(?:\S+=\S*\s+)*)?(?:\/(?:usr\/)?bin\/)?(?:ba|z|da|k)?sh\b|\|\s*(?:sudo\s+(?:-\S+\s+)*)?(?:\/(?:usr\/)?bin\/)?(?:python[\d.]*|perl|ruby|node)\b/;
/**
 * A download substituted into a shell: `bash <(curl …)`, `sh -c "$(curl …)"`, `eval "$(wget -O- …)"`, `source <(…)`; or
 * standing as a command, `$(curl …)` / `` `curl …` `` (the shell runs what it printed as a command line).
 */
const SUBSTITUTED = /(?:(?:ba|z|da|k)?sh|source|\.|eval|python[\d.]*)\s+(?:-c\s+)?["']?[<$]\(\s*(?:curl|wget)\b|(?:^|[;&|({]|\b(?:then|do|else)\s)\s*(?:\$\(|`)\s*(?:curl|wget)\b/;

/** A shell line as bash reads it: `\`-newline joins lines. */
function logicalLines(text: string): string[] {
  return text.replace(/\\\r?\n/g, ' ').split(/\r?\n/).filter((l) => !/^\s*#/.test(l));
}

/**
 * The URLs written in a line, not an assignment's value (`BASE=https://x; curl "$BASE/y"` downloads `https://x/y`,
 * which the script reading resolves, not `https://x`); one holding variables the script sets is the URL they make
 * (`https://$H/i.sh`), else it is kept as written.
 */
function literalUrls(line: string, expand: (text: string) => string): string[] {
  return [...line.matchAll(URL_RE)].filter((m) => !/[A-Za-z_][A-Za-z0-9_]*=["']?$/.test(line.slice(0, m.index))).map((m) => {
    const resolved = m[0].includes('$') ? expand(m[0]) : m[0];
    return resolved.includes('$') ? m[0] : resolved;
  });
}

/** A URL as shown: trailing punctuation off, credentials hidden. */
function shownUrl(u: string): string {
  return redactUrlSecrets(u.replace(/[.,]+$/, ''));
}

/**
 * What the lifecycle scripts of a request fetch and run: the locations downloaded from, those piped into a shell,
 * the package sources pip / uv / conda install from, and which scripts hold a credential. Read from the decoded
 * text; a script that is no base64 text is not read.
 *
 * @example
 * scriptFactsOf([{ hook: 'on_start', content: Buffer.from('curl -s https://x.example/a.sh | bash').toString('base64') }]).piped_to_shell
 * // ['https://x.example/a.sh']
 */
export function scriptFactsOf(scripts: readonly LifecycleScript[]): ScriptFacts {
  const code = new Set<string>();
  const piped = new Set<string>();
  const sources = new Set<string>();
  const secretIn = new Set<string>();
  for (const s of scripts) {
    const text = decodeScript(s.content);
    if (text === undefined) continue;
    if (redactScriptText(text) !== text) secretIn.add(s.hook);
    for (const src of packageSourceFactsOf({ command: ['bash', '-c', text] }).sources) sources.add(src);
    const lines = logicalLines(text);
    // Fetched to disk and run later: as good as piped (script-runs.ts). A fetched file only read is not run.
    const runs = scriptRuns(lines);
    for (const u of runs.ran) piped.add(shownUrl(u));
    for (const line of lines) {
      const urls = literalUrls(line, runs.expand);
      if (FETCHER.test(line)) {
        for (const u of urls) code.add(shownUrl(u));
        if (PIPE_TO_SHELL.test(line) || SUBSTITUTED.test(line)) {
          // What feeds the pipe: the URLs before it (a `| bash` after `curl A -o f; curl B` still names both).
          const cut = line.search(/\|\s*(?:sudo\s|env\s|\/|(?:ba|z|da|k)?sh\b|python|perl|ruby|node)/);
          const before = SUBSTITUTED.test(line) ? line : line.slice(0, cut < 0 ? undefined : cut);
          for (const u of literalUrls(before, runs.expand)) piped.add(shownUrl(u));
        }
      }
      for (const m of line.matchAll(CLOUD_COPY)) {
        const src = m[2] ?? '';
        if (/^(?:s3|gs):\/\//.test(src) && !src.includes('$')) code.add(shownUrl(src.replace(/^["']|["']$/g, '')));
      }
    }
    // What the reading resolved through the script's assignments (`aws s3 cp "${BUCKET}/setup.sh" …`).
    for (const u of runs.fetched) code.add(shownUrl(u));
  }
  return { code_uris: [...code], piped_to_shell: [...piped], package_sources: [...sources], secret_in: [...secretIn] };
}

/**
 * Event details of a notebook or Studio write: the lifecycle scripts' facts (ScriptFacts, as `script_*`) and a
 * notebook instance's exposure — `subnet_id` (none: SageMaker gives it direct internet access whatever the
 * request says), `role_arn`, `lifecycle_config_name`, `disassociate_lifecycle_config`. Empty when none apply.
 */
export function notebookDetails(eventName: string, params: Obj): Record<string, unknown> {
  const d: Record<string, unknown> = {};
  const scripts = lifecycleScriptsOf(params);
  if (scripts.length) {
    const f = scriptFactsOf(scripts);
    d.script_hooks = [...new Set(scripts.map((s) => s.hook))];
    if (f.code_uris.length) d.script_code_uris = f.code_uris;
    if (f.piped_to_shell.length) d.script_piped_to_shell = f.piped_to_shell;
    if (f.package_sources.length) d.script_package_sources = f.package_sources;
    if (f.secret_in.length) d.script_secret_in = f.secret_in;
  }
  if (/^(Create|Update)NotebookInstance$/.test(eventName)) {
    for (const k of ['subnetId', 'roleArn', 'lifecycleConfigName'] as const) if (str(params[k])) d[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = str(params[k]);
    if (params.disassociateLifecycleConfig === true) d.disassociate_lifecycle_config = true;
  }
  return d;
}

/** The Studio settings objects a request sets, by operation: a domain's defaults for every user and space, a profile's, a space's. */
const STUDIO_SETTINGS: Record<string, readonly string[]> = {
  CreateDomain: ['defaultUserSettings', 'defaultSpaceSettings'],
  UpdateDomain: ['defaultUserSettings', 'defaultSpaceSettings'],
  CreateUserProfile: ['userSettings'],
  UpdateUserProfile: ['userSettings'],
  CreateSpace: ['spaceSettings'],
  UpdateSpace: ['spaceSettings'],
  // CreateApp names its configuration in its ResourceSpec (read above the loop), no settings.
  CreateApp: [],
};
/** The app settings that attach lifecycle configurations (UserSettings / SpaceSettings members). */
const STUDIO_APPS = ['jupyterServerAppSettings', 'kernelGatewayAppSettings', 'jupyterLabAppSettings', 'codeEditorAppSettings'] as const;

/**
 * The Studio lifecycle configurations a domain, user profile or space write attaches (CreateDomain / UpdateDomain
 * `defaultUserSettings` and `defaultSpaceSettings`, Create/UpdateUserProfile `userSettings`, Create/UpdateSpace
 * `spaceSettings`): each app's `lifecycleConfigArns` (offered to its users), `defaultResourceSpec.lifecycleConfigArn`
 * (run at every start of the app by default) and `builtInLifecycleConfigArn` (run before it); a CreateApp's
 * `resourceSpec.lifecycleConfigArn` (run as that app starts). Empty for other calls.
 *
 * @example
 * studioLifecycleArnsOf('UpdateDomain', { defaultUserSettings: { jupyterLabAppSettings: { lifecycleConfigArns: ['arn:aws:sagemaker:us-east-1:111122223333:studio-lifecycle-config/x'] } } })
 * // ['arn:aws:sagemaker:us-east-1:111122223333:studio-lifecycle-config/x']
 */
export function studioLifecycleArnsOf(eventName: string, params: Obj): string[] {
  // Every SageMaker record comes through here and seven operations can attach one: the others return before any work.
  // An own key only: `STUDIO_SETTINGS.constructor` (an eventName of `constructor`) is no list of settings keys.
  if (!Object.hasOwn(STUDIO_SETTINGS, eventName)) return [];
  const out = new Set<string>();
  // CreateApp starts one app with the configuration its ResourceSpec names (run at this start).
  const started = eventName === 'CreateApp' && isObj(params.resourceSpec) ? str(params.resourceSpec.lifecycleConfigArn) : undefined;
  if (started && started !== 'None') out.add(started);
  for (const key of STUDIO_SETTINGS[eventName]!) {
    const settings = params[key];
    if (!isObj(settings)) continue;
    for (const app of STUDIO_APPS) {
      const s = settings[app];
      if (!isObj(s)) continue;
      const spec = isObj(s.defaultResourceSpec) ? s.defaultResourceSpec : {};
      for (const a of [...arr(s.lifecycleConfigArns).map(str), str(spec.lifecycleConfigArn), str(s.builtInLifecycleConfigArn)]) {
        // `None` is how a built-in configuration is turned off.
        if (a && a !== 'None') out.add(a);
      }
    }
  }
  return [...out];
}
