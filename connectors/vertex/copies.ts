import type { Canon } from './names.js';
import { str, type Json } from './logentry.js';

/**
 * A CopyModel from one project to another, for `platform.artifact_exported`. The request names the source
 * (`sourceModel`, `projects/S/locations/L/models/M[@V]`) and where the copy goes (`parent`, and `parentModel` for
 * a new version of an existing model, or `modelId`); the entry is logged in the destination's project. A copy
 * within a project (another region) keeps the model where it was and is none. Projects are compared after the
 * entry's own project number is written as its id (`canonicalNames`): a source named by a number the entry does
 * not pin is taken to be the entry's own project, as everywhere else.
 *
 * @example
 * crossProjectCopy({ parent: 'projects/p2/locations/us-central1', sourceModel: 'projects/p1/locations/us-central1/models/9@2', modelId: 'x' }, undefined, (n) => n)
 * // { source: 'projects/p1/locations/us-central1/models/9@2', destination: 'projects/p2/locations/us-central1/models/x', project: 'p2' }
 */
export function crossProjectCopy(req: Json, resourceName: string | undefined, canon: Canon, created: { name?: string } | undefined): { source: string; destination: string; project: string } | undefined {
  const source = canon(str(req.sourceModel));
  const parent = canon(str(req.parent)) ?? resourceName;
  const from = projectOf(source);
  const to = projectOf(parent);
  if (!source || !parent || !from || !to || from === to) return undefined;
  const modelId = str(req.modelId);
  const destination = canon(str(req.parentModel)) ?? (modelId && !/[/@]/.test(modelId) ? `${parent}/models/${modelId}` : undefined) ?? canon(created?.name) ?? parent;
  return { source, destination, project: to };
}

function projectOf(name: string | undefined): string | undefined {
  return name ? /^projects\/([^/]+)/.exec(name)?.[1] : undefined;
}

