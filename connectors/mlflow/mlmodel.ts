import { parse as parseYaml } from 'yaml';
import { hubModelRef, isHubId, type HubModel } from '../../core/integrity/hub.js';

/** Bytes of an `MLmodel` file read (it is metadata: a few KiB; a larger one is cut, and read as far as it parses). */
export const MAX_MLMODEL_BYTES = 256 * 1024;

const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

/**
 * The Hugging Face Hub repositories an MLflow `transformers` model loads when it is loaded, read from its `MLmodel`
 * file. `mlflow.transformers.log_model(..., save_pretrained=False)` saves no weights: the flavor records the
 * repository (`source_model_name`) and the commit it saw then (`source_model_revision`), and components'
 * `<component>_name` / `<component>_revision` (tokenizer, feature extractor, image processor, processor); MLflow's
 * loader fetches them from the Hub whenever the flavor carries `source_model_revision`
 * (`mlflow/transformers/__init__.py::_load_pipeline_from_flavor`). Those weights are in no artifact the auditor
 * hashes. A model saved with its weights (the default: `model_binary`, no `source_model_revision`) loads nothing from
 * the Hub — its `source_model_name` only says where the weights once came from — and gives none.
 *
 * @example
 * hubModelsOfMlmodel('flavors:\n  transformers:\n    task: text-generation\n    source_model_name: openai-community/gpt2\n    source_model_revision: 607a30d783dfa663caf39e06633721c8d4cfcd7e\n')
 * // [{ id: 'openai-community/gpt2', revision: '607a30d783dfa663caf39e06633721c8d4cfcd7e', task: 'text-generation' }]
 */
export function hubModelsOfMlmodel(mlmodel: string | undefined): HubModel[] {
  if (!mlmodel) return [];
  let doc: unknown;
  try {
    doc = parseYaml(mlmodel.slice(0, MAX_MLMODEL_BYTES), { maxAliasCount: 20 });
  } catch {
    return [];
  }
  const flavors = doc && typeof doc === 'object' ? (doc as Record<string, unknown>).flavors : undefined;
  const tf = flavors && typeof flavors === 'object' ? (flavors as Record<string, unknown>).transformers : undefined;
  if (!tf || typeof tf !== 'object' || Array.isArray(tf)) return [];
  const f = tf as Record<string, unknown>;
  // MLflow's own test for "load from the Hub": the key's presence, whatever its value (an empty one is refused at load).
  if (!Object.hasOwn(f, 'source_model_revision')) return [];
  const out: HubModel[] = [];
  const add = (id: string | undefined, revision: unknown, task?: string) => {
    if (!id || !isHubId(id)) return; // a local checkpoint path is not the Hub
    const rev = typeof revision === 'number' ? String(revision) : text(revision);
    const m: HubModel = { id, ...(rev ? { revision: rev } : {}), ...(task ? { task } : {}) };
    if (!out.some((o) => hubModelRef(o) === hubModelRef(m))) out.push(m);
  };
  add(text(f.source_model_name), f.source_model_revision, text(f.task));
  const components = Array.isArray(f.components) ? f.components.filter((c): c is string => typeof c === 'string') : [];
  // The processor is no listed component; its type says one was saved (update_flavor_conf_to_persist_pretrained_model).
  if (f.processor_type !== undefined && !components.includes('processor')) components.push('processor');
  for (const c of components) add(text(f[`${c}_name`]), f[`${c}_revision`]);
  return out;
}
