/**
 * The Hugging Face Hub model a serving container downloads when it starts, as its environment names it. The
 * containers read the repository from a variable instead of a model archive:
 * - the Hugging Face LLM (TGI) and TEI images on SageMaker: `HF_MODEL_ID`, `HF_MODEL_REVISION`,
 *   `HF_MODEL_TRUST_REMOTE_CODE` (their entrypoint exports them as TGI's `MODEL_ID` / `REVISION` / `TRUST_REMOTE_CODE`);
 * - the Hugging Face inference toolkit (the transformers DLC): `HF_MODEL_ID`, `HF_MODEL_REVISION`, `HF_TASK`;
 * - DJL / LMI: `HF_MODEL_ID` or `OPTION_MODEL_ID` (`option.model_id`), a Hub id or an `s3://` prefix, and
 *   `OPTION_REVISION`, `OPTION_TRUST_REMOTE_CODE`;
 * - TGI started directly (Vertex's Hugging Face DLCs, `env: [{name: MODEL_ID, …}]`): `MODEL_ID`, `REVISION`,
 *   `TRUST_REMOTE_CODE` — read only where `bare` is set, as SageMaker's entrypoint overwrites them.
 * A revision is a branch, a tag or a commit; only a 40-hex commit names fixed content (a branch moves with every push).
 */

/** One Hub repository a container loads (a type, not an interface: it fits the schema's loose object). */
export type HubModel = {
  /** The repository id, `owner/name` (or a legacy un-namespaced `gpt2`). */
  id: string;
  /** The revision asked for; unset: the repository's default branch. */
  revision?: string;
  /** The pipeline task (`HF_TASK`), when given. */
  task?: string;
  /** True when the container is told to run the repository's own Python code (`trust_remote_code`). */
  trust_remote_code?: true;
};

/** A Hub repository id: one or two path segments of the Hub's name characters (no scheme, no leading slash). */
const HUB_ID = /^[A-Za-z0-9][\w.-]*(\/[\w.-]+)?$/;
/**
 * True for a Hub repository id (`owner/name`, or a legacy `gpt2`): not a URI, not a local path.
 *
 * @example
 * isHubId('openai-community/gpt2') // true
 * isHubId('/tmp/checkpoint') // false
 */
export function isHubId(s: string): boolean {
  return HUB_ID.test(s);
}

/** A full commit hash: the one revision form that names fixed content. */
const COMMIT = /^[0-9a-f]{40}$/;

/** `{NAME: value}` (SageMaker `Environment`) or `[{name, value}]` (Vertex / Kubernetes `env`) → a name → value map. */
function envMap(env: unknown): Map<string, string> {
  const out = new Map<string, string>();
  const put = (k: unknown, v: unknown) => {
    if (typeof k === 'string' && typeof v === 'string' && v.trim()) out.set(k.toUpperCase(), v.trim());
  };
  if (Array.isArray(env)) {
    for (const e of env) if (e && typeof e === 'object') put((e as { name?: unknown }).name, (e as { value?: unknown }).value);
  } else if (env && typeof env === 'object') {
    for (const [k, v] of Object.entries(env)) put(k, v);
  }
  return out;
}

const first = (env: Map<string, string>, names: string[]): string | undefined => names.map((n) => env.get(n)).find((v) => v !== undefined);

/**
 * The Hub model an environment makes its container load, or the `s3://` location given in its place (DJL's
 * `HF_MODEL_ID=s3://…`: weights the container loads besides its model data), or {} when it names neither (a local
 * path such as `/opt/ml/model` is inside the model data).
 *
 * @example
 * hubModelOfEnv({ HF_MODEL_ID: 'someuser/llama-3-8b-uncensored', HF_MODEL_REVISION: 'main' }) // { hub: { id: 'someuser/llama-3-8b-uncensored', revision: 'main' } }
 * hubModelOfEnv({ HF_MODEL_ID: 's3://models/llama/' }) // { uri: 's3://models/llama/' }
 */
export function hubModelOfEnv(env: unknown, opts: { bare?: boolean } = {}): { hub?: HubModel; uri?: string } {
  const vars = envMap(env);
  const id = first(vars, ['HF_MODEL_ID', 'OPTION_MODEL_ID', ...(opts.bare ? ['MODEL_ID'] : [])]);
  if (!id) return {};
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(id)) return { uri: id };
  if (!HUB_ID.test(id)) return {};
  const revision = first(vars, ['HF_MODEL_REVISION', 'OPTION_REVISION', ...(opts.bare ? ['REVISION'] : [])]);
  const task = vars.get('HF_TASK');
  const remote = first(vars, ['HF_MODEL_TRUST_REMOTE_CODE', 'OPTION_TRUST_REMOTE_CODE', ...(opts.bare ? ['TRUST_REMOTE_CODE'] : [])]);
  return { hub: { id, ...(revision ? { revision } : {}), ...(task ? { task } : {}), ...(remote?.toLowerCase() === 'true' ? { trust_remote_code: true as const } : {}) } };
}

/**
 * True when a Hub model is pinned: its revision is a full commit hash.
 *
 * @example
 * isPinnedHubModel({ id: 'a/b', revision: 'main' }) // false
 */
export function isPinnedHubModel(m: Pick<HubModel, 'revision'>): boolean {
  return !!m.revision && COMMIT.test(m.revision);
}

/** `id@revision` (or the id alone when no revision is given): how a Hub model is named in alerts. */
export function hubModelRef(m: Pick<HubModel, 'id' | 'revision'>): string {
  return m.revision ? `${m.id}@${m.revision}` : m.id;
}
