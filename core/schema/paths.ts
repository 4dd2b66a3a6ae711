import { jsonSchemaOf } from './event.js';

/** The parts of a JSON Schema node the path check reads. */
interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  additionalProperties?: unknown;
  items?: SchemaNode;
  anyOf?: SchemaNode[];
  oneOf?: SchemaNode[];
}

let eventSchema: SchemaNode | undefined;

/** Whether `segments` can name a value under `node`: closed objects name their members, open ones anything. */
function reaches(node: SchemaNode | undefined, segments: string[]): boolean {
  if (!node || segments.length === 0) return true;
  const branches = node.anyOf ?? node.oneOf;
  if (branches) return branches.some((b) => reaches(b, segments));
  const [head, ...rest] = segments as [string, ...string[]];
  if (node.items) return /^\d+$/.test(head) && reaches(node.items, rest);
  if (node.properties && head in node.properties) return reaches(node.properties[head], rest);
  // A map (`details`, `ml.metrics`, `raw`) or a free-form value takes any key; an object with listed
  // members keeps only those (unknown keys are dropped when an event is validated).
  if (node.additionalProperties !== undefined && node.additionalProperties !== false) return true;
  return !node.properties && !node.items && !('type' in node && (node as { type?: unknown }).type !== 'object');
}

/**
 * Why a dotted path (`actor.email`, `ml.data.rows`, `details.tag.key`) can name no field of a
 * normalized event, or undefined when it can. A misspelt path in a rule's `where.fields` or
 * `sum:` measure would otherwise match nothing, silently.
 *
 * @example
 * eventPathProblem('cloud.regoin') // 'cloud has no member "regoin"'
 * eventPathProblem('details.anything') // undefined
 */
export function eventPathProblem(path: string): string | undefined {
  eventSchema ??= jsonSchemaOf('event') as SchemaNode;
  const segments = path.split('.');
  for (let i = 1; i <= segments.length; i++) {
    if (!reaches(eventSchema, segments.slice(0, i))) {
      const parent = segments.slice(0, i - 1).join('.');
      return parent ? `${parent} has no member "${segments[i - 1]}"` : `an event has no field "${segments[0]}"`;
    }
  }
  return undefined;
}
