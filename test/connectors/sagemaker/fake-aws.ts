import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/**
 * A local stand-in for SQS (AWS JSON 1.0 protocol, as @aws-sdk/client-sqs
 * 3.1175 speaks it: POST /, X-Amz-Target: AmazonSQS.<Op>,
 * Content-Type: application/x-amz-json-1.0) and S3 (path-style GetObject),
 * on one port like LocalStack. It behaves like the services where the
 * poller's guarantees depend on it: SigV4-signed requests only, visibility
 * timeouts, receipt handles that change on every receive (only the latest
 * deletes), MD5OfBody, long polling, NoSuchKey, gzip objects as stored bytes.
 */

export interface FakeMessage {
  id: string;
  body: string;
  visibleAt: number;
  receipt?: string;
  receiveCount: number;
  deleted: boolean;
}

export interface FakeObject {
  body: Buffer;
  contentType: string;
  lastModified: Date;
}

/**
 * 'hang': headers and one byte, then nothing; 'stall': half the body, then nothing (connection kept open);
 * dripMs: one byte every dripMs, never finishing (never idle); delayMs: a slow but complete answer;
 * firstByteAloneMs: the first byte in a packet of its own, the rest that much later (a complete answer).
 */
export type S3Fault = 'reset-once' | 'hang' | 'stall' | { dripMs: number } | { delayMs: number } | { firstByteAloneMs: number };

export class FakeAws {
  readonly accountId = '111122223333';
  readonly region = 'us-east-1';
  readonly accessKeyId = 'AKIAFAKEFAKEFAKE0001';
  server!: Server;
  url = '';
  /** Queue name → messages. */
  readonly queues = new Map<string, FakeMessage[]>();
  /** "bucket/key" → object. */
  readonly objects = new Map<string, FakeObject>();
  readonly s3Faults = new Map<string, S3Fault>();
  readonly gets = new Map<string, number>();
  /** The versionId query of every signed GetObject ("bucket/key" → versionId or null). */
  readonly getVersions: Array<{ key: string; versionId: string | null }> = [];
  readonly calls: string[] = [];
  /** Fail the next N DeleteMessage calls with a 500 (the message then stays). */
  failDeletes = 0;
  /** Refuse the next N ReceiveMessage calls as IAM does (403 AccessDenied); Infinity until reset. */
  denyReceives = 0;
  activeGets = 0;
  maxActiveGets = 0;
  /** Requests refused for a missing or malformed SigV4 signature. */
  unsigned = 0;
  private hung: ServerResponse[] = [];

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.route(req, res).catch((err: Error) => {
        if (!res.headersSent) res.writeHead(500).end(err.message);
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const r of this.hung) r.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  queueUrl(name: string): string {
    if (!this.queues.has(name)) this.queues.set(name, []);
    return `${this.url}/${this.accountId}/${name}`;
  }

  send(queue: string, body: unknown): string {
    const id = randomUUID();
    this.queues.get(queue)!.push({ id, body: typeof body === 'string' ? body : JSON.stringify(body), visibleAt: 0, receiveCount: 0, deleted: false });
    return id;
  }

  /** Messages not yet deleted (visible or in flight). */
  remaining(queue: string): FakeMessage[] {
    return this.queues.get(queue)!.filter((m) => !m.deleted);
  }

  putObject(bucket: string, key: string, body: Buffer, contentType = 'application/json'): void {
    this.objects.set(`${bucket}/${key}`, { body, contentType, lastModified: new Date('2026-11-25T10:10:00Z') });
  }

  private checkSigV4(req: IncomingMessage, service: string): boolean {
    const auth = req.headers.authorization ?? '';
    const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=[0-9a-f]{64}$/.exec(auth);
    const ok = !!m && m[1] === this.accessKeyId && m[4] === service && !!req.headers['x-amz-date'] && m[5]!.split(';').includes('host');
    if (!ok) this.unsigned++;
    return ok;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = req.headers['x-amz-target'];
    if (req.method === 'POST' && typeof target === 'string' && target.startsWith('AmazonSQS.')) return this.sqs(req, res, target.slice('AmazonSQS.'.length));
    if (req.method === 'GET') return this.s3Get(req, res);
    res.writeHead(400, { 'content-type': 'text/plain' }).end('unsupported request');
  }

  private sqsError(res: ServerResponse, status: number, type: string, message: string, queryCode: string): void {
    const body = JSON.stringify({ __type: `com.amazonaws.sqs#${type}`, message });
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-query-error': `${queryCode};Sender`, 'x-amzn-requestid': randomUUID() }).end(body);
  }

  private async sqs(req: IncomingMessage, res: ServerResponse, op: string): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    this.calls.push(`sqs:${op}`);
    if (!this.checkSigV4(req, 'sqs')) return this.sqsError(res, 403, 'InvalidClientTokenId', 'The security token included in the request is invalid.', 'InvalidClientTokenId');
    if (!/^application\/x-amz-json-1\.0/.test(req.headers['content-type'] ?? '')) return this.sqsError(res, 400, 'InvalidParameterValue', 'wrong content-type', 'InvalidParameterValue');
    const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, any>;
    const name = String(input.QueueUrl ?? '').split('/').pop()!;
    const queue = this.queues.get(name);
    if (!queue) return this.sqsError(res, 400, 'QueueDoesNotExist', 'The specified queue does not exist.', 'AWS.SimpleQueueService.NonExistentQueue');
    const ok = (out: unknown): void => {
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID() }).end(JSON.stringify(out));
    };
    const byReceipt = (h: string) => queue.find((m) => !m.deleted && m.receipt === h);

    switch (op) {
      case 'ReceiveMessage': {
        if (this.denyReceives > 0) {
          this.denyReceives--;
          return this.sqsError(res, 403, 'AccessDeniedException', `Access to the resource ${input.QueueUrl} is denied.`, 'AccessDenied');
        }
        const max = Math.min(10, Number(input.MaxNumberOfMessages ?? 1));
        if (max < 1) return this.sqsError(res, 400, 'InvalidParameterValue', 'MaxNumberOfMessages must be 1..10', 'InvalidParameterValue');
        const visibility = Number(input.VisibilityTimeout ?? 30) * 1000;
        const deadline = Date.now() + Number(input.WaitTimeSeconds ?? 0) * 1000;
        let closed = false;
        req.on('close', () => (closed = true));
        res.on('close', () => (closed = true));
        for (;;) {
          const now = Date.now();
          const ready = queue.filter((m) => !m.deleted && m.visibleAt <= now).slice(0, max);
          if (ready.length || now >= deadline || closed) {
            if (closed) return;
            const Messages = ready.map((m) => {
              m.receiveCount++;
              m.visibleAt = now + visibility;
              m.receipt = `${m.id}#${randomUUID()}`;
              return {
                MessageId: m.id,
                ReceiptHandle: m.receipt,
                MD5OfBody: createHash('md5').update(m.body).digest('hex'),
                Body: m.body,
                Attributes: { ApproximateReceiveCount: String(m.receiveCount), SentTimestamp: String(now) },
              };
            });
            return ok(Messages.length ? { Messages } : {});
          }
          await new Promise((r) => setTimeout(r, 20));
        }
      }
      case 'DeleteMessage': {
        if (this.failDeletes > 0) {
          this.failDeletes--;
          return this.sqsError(res, 500, 'InternalError', 'We encountered an internal error. Please try again.', 'InternalError');
        }
        const m = byReceipt(String(input.ReceiptHandle));
        if (!m) return this.sqsError(res, 400, 'ReceiptHandleIsInvalid', 'The input receipt handle is invalid.', 'ReceiptHandleIsInvalid');
        m.deleted = true;
        return ok({});
      }
      case 'ChangeMessageVisibility': {
        const m = byReceipt(String(input.ReceiptHandle));
        if (!m) return this.sqsError(res, 400, 'ReceiptHandleIsInvalid', 'The input receipt handle is invalid.', 'ReceiptHandleIsInvalid');
        m.visibleAt = Date.now() + Number(input.VisibilityTimeout) * 1000;
        return ok({});
      }
      default:
        return this.sqsError(res, 400, 'InvalidAction', `unsupported action ${op}`, 'InvalidAction');
    }
  }

  private async s3Get(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const path = url.pathname.split('/').slice(1).map(decodeURIComponent);
    const key = `${path[0]}/${path.slice(1).join('/')}`;
    this.calls.push(`s3:GetObject:${key}`);
    if (!this.checkSigV4(req, 's3')) {
      res.writeHead(403, { 'content-type': 'application/xml' }).end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>SignatureDoesNotMatch</Code><Message>unsigned</Message></Error>');
      return;
    }
    this.gets.set(key, (this.gets.get(key) ?? 0) + 1);
    this.getVersions.push({ key, versionId: url.searchParams.get('versionId') });
    const obj = this.objects.get(key);
    if (!obj) {
      res.writeHead(404, { 'content-type': 'application/xml', 'x-amz-request-id': 'FAKE' }).end(
        `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>${path.slice(1).join('/')}</Key></Error>`,
      );
      return;
    }
    this.activeGets++;
    this.maxActiveGets = Math.max(this.maxActiveGets, this.activeGets);
    res.on('close', () => this.activeGets--);
    const headers = {
      'content-type': obj.contentType,
      'content-length': String(obj.body.length),
      etag: `"${createHash('md5').update(obj.body).digest('hex')}"`,
      'last-modified': obj.lastModified.toUTCString(),
      'accept-ranges': 'bytes',
    };
    const fault = this.s3Faults.get(key);
    if (fault === 'reset-once') {
      // The connection dies half-way through the body (a crash of the transfer).
      this.s3Faults.delete(key);
      res.writeHead(200, headers);
      res.write(obj.body.subarray(0, Math.floor(obj.body.length / 2)));
      setTimeout(() => res.destroy(), 20);
      return;
    }
    if (fault === 'hang' || fault === 'stall') {
      res.writeHead(200, headers);
      res.write(obj.body.subarray(0, fault === 'hang' ? 1 : Math.floor(obj.body.length / 2)));
      this.hung.push(res);
      return;
    }
    if (typeof fault === 'object' && 'dripMs' in fault) {
      res.writeHead(200, headers);
      let i = 0;
      const drip = setInterval(() => {
        if (i < obj.body.length - 1) res.write(obj.body.subarray(i, ++i));
      }, fault.dripMs);
      res.on('close', () => clearInterval(drip));
      this.hung.push(res);
      return;
    }
    if (typeof fault === 'object' && 'firstByteAloneMs' in fault) {
      res.writeHead(200, headers);
      res.write(obj.body.subarray(0, 1));
      setTimeout(() => res.end(obj.body.subarray(1)), fault.firstByteAloneMs);
      return;
    }
    // Hold each GET briefly so concurrency is observable (longer when asked to be slow).
    await new Promise((r) => setTimeout(r, typeof fault === 'object' && 'delayMs' in fault ? fault.delayMs : 30));
    res.writeHead(200, headers).end(obj.body);
  }
}
