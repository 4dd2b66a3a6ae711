/**
 * Vertex AI Workbench instances (`notebooks.googleapis.com`): the post-startup script an instance downloads and runs
 * as root after every boot — v2 `Instance.gceSetup.metadata["post-startup-script"]`, v1 `Instance.postStartupScript`
 * or its `metadata` entry, v1 `UpdateInstanceMetadataItems` `items` — a URL or `gs://` path, read as event details the
 * way a SageMaker lifecycle configuration's scripts are (`platform.notebook_exposure` judges them).
 */
import { redactUrlSecrets } from '../../core/secrets.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

/** The metadata key Workbench reads the post-startup script's location from. */
const SCRIPT_KEY = 'post-startup-script';

/**
 * Event details of a Workbench instance write that sets a post-startup script: `lifecycle_scripts: true`,
 * `script_hooks: ['post_startup_script']`, `script_code_uris` (its location) and, for a script fetched from outside
 * Cloud Storage (`https://…`: any host on the internet, run as root unread), `script_piped_to_shell`. Undefined for
 * other calls.
 *
 * @example
 * workbenchScriptDetails('notebooks.googleapis.com', 'CreateInstance', { instance: { gceSetup: { metadata: { 'post-startup-script': 'gs://b/s.sh' } } } })
 * // { lifecycle_scripts: true, script_hooks: ['post_startup_script'], script_code_uris: ['gs://b/s.sh'] }
 */
export function workbenchScriptDetails(serviceName: string | undefined, rpc: string, req: Obj): Record<string, unknown> | undefined {
  if (serviceName !== 'notebooks.googleapis.com' || !/^(CreateInstance|UpdateInstance|UpdateInstanceMetadataItems|CreateRuntime|UpdateRuntime)$/.test(rpc)) return undefined;
  const instance = isObj(req.instance) ? req.instance : isObj(req.runtime) ? req.runtime : {};
  const gce = isObj(instance.gceSetup) ? instance.gceSetup : {};
  const software = isObj(instance.softwareConfig) ? instance.softwareConfig : {};
  const metadataScript = (m: unknown) => (isObj(m) ? str(m[SCRIPT_KEY]) : undefined);
  const script = metadataScript(gce.metadata) ?? str(instance.postStartupScript) ?? metadataScript(instance.metadata) ?? str(software.postStartupScript) ?? metadataScript(req.items);
  if (!script) return undefined;
  const shown = redactUrlSecrets(script);
  return {
    lifecycle_scripts: true,
    script_hooks: ['post_startup_script'],
    script_code_uris: [shown],
    script_piped_to_shell: /^https?:\/\//i.test(script) ? [shown] : undefined,
  };
}
