/** What names a secret and what hides one: shared so every place that keeps or shows records redacts alike. */
// The one import path for redaction: the rules live in core/secrets/, one file per concern.
export { isSecretName, REDACTED, holdsSecret } from './secrets/names.js';
export { redactUrlUserinfo, redactUrlSecrets } from './secrets/urls.js';
export { isSecretFlag } from './secrets/flags.js';
export { lastCommandInJson, hideFlagArgument } from './secrets/commands.js';
export { redactSecretText } from './secrets/text.js';
export { redactScriptText } from './secrets/script.js';
export { redactBase64Text } from './secrets/base64.js';
export { redactArgv } from './secrets/argv.js';
export { redactJobSecrets, redactValueMap } from './secrets/jobs.js';
export { redactFreeText, redactJsonText, redactJsonTree, redactTagMap, redactTagList } from './secrets/values.js';
