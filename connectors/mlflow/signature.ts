import { createHmac } from 'node:crypto';
import { safeEqualAny } from '../../core/http/index.js';

/**
 * MLflow's webhook signature (`mlflow/webhooks/delivery.py::_generate_hmac_signature`):
 * `"v1," + base64(HMAC_SHA256(utf8(secret), delivery_id + "." + timestamp + "." + body))`.
 * The body is the raw bytes as received: re-serialized JSON would not match.
 *
 * @example
 * mlflowSignature('test-secret-key', '5b9c…', '1754000000', body) // 'v1,+BMyXo…'
 */
export function mlflowSignature(secret: string, deliveryId: string, timestamp: string, body: Buffer | string): string {
  const mac = createHmac('sha256', Buffer.from(secret, 'utf8'));
  mac.update(`${deliveryId}.${timestamp}.`, 'utf8');
  mac.update(body);
  return `v1,${mac.digest('base64')}`;
}

/** True when `given` is the v1 signature of the delivery under any of `secrets` (all compared, constant time). */
export function verifyMlflowSignature(secrets: readonly string[], given: string, deliveryId: string, timestamp: string, body: Buffer): boolean {
  if (!given.startsWith('v1,') || secrets.length === 0) return false;
  return safeEqualAny(given, secrets.map((s) => mlflowSignature(s, deliveryId, timestamp, body)));
}

/**
 * Databricks registry webhook signature: lowercase hex HMAC-SHA256 of the raw body.
 *
 * @example
 * databricksSignature('secret', body) // '3b1f…' (64 hex chars)
 */
export function databricksSignature(secret: string, body: Buffer | string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest('hex');
}

export function verifyDatabricksSignature(secrets: readonly string[], given: string, body: Buffer): boolean {
  if (secrets.length === 0) return false;
  return safeEqualAny(given.toLowerCase(), secrets.map((s) => databricksSignature(s, body)));
}

/** Who signs webhooks: a configured server (its id) or the default one (no id), with its secrets. */
export interface WebhookSender {
  server?: string;
  secrets: readonly string[];
}

/**
 * The sender whose secrets verify a delivery. Every sender is checked, none skipped once one matched, so the
 * time taken does not tell which secret did; the secret, not a header or route, is what names the server.
 *
 * @example
 * signedBy(senders, (secrets) => verifyMlflowSignature(secrets, sig, id, ts, body))?.server // 'team'
 */
export function signedBy(senders: readonly WebhookSender[], verify: (secrets: readonly string[]) => boolean): WebhookSender | undefined {
  let found: WebhookSender | undefined;
  for (const sender of senders) {
    const ok = verify(sender.secrets);
    if (ok && !found) found = sender;
  }
  return found;
}
