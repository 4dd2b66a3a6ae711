import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const require = createRequire(import.meta.url);

/** Proto include dirs: Pub/Sub's own protos and google-gax's (google/api, google/protobuf). */
function includeDirs(): string[] {
  const pubsubRoot = dirname(require.resolve('@google-cloud/pubsub/package.json'));
  const pubsubRequire = createRequire(join(pubsubRoot, 'package.json'));
  // google-gax does not export package.json: walk up from its entry point to the folder holding build/protos.
  let gaxRoot = dirname(pubsubRequire.resolve('google-gax'));
  while (!existsSync(join(gaxRoot, 'build/protos/google/api')) && dirname(gaxRoot) !== gaxRoot) gaxRoot = dirname(gaxRoot);
  return [join(pubsubRoot, 'build/protos'), join(gaxRoot, 'build/protos')];
}

export interface FakeMessage {
  messageId: string;
  data: Buffer;
  attributes?: Record<string, string>;
}

/**
 * A strict local fake of the Pub/Sub Subscriber service (google.pubsub.v1):
 * StreamingPull delivers the queued messages on the first stream of the
 * expected subscription, Acknowledge / ModifyAckDeadline record what the
 * client settles (deadline 0 = nack, which redelivers up to `redeliver`
 * times with a new ackId and deliveryAttempt + 1). Requests naming another
 * subscription, or a stream without a stream ack deadline, fail as the
 * service would. `refuse` makes every StreamingPull fail with that status
 * (e.g. PERMISSION_DENIED, as for a subscriber without roles/pubsub.subscriber)
 * until `serve()` is called.
 */
export async function startFakeSubscriber(subscription: string, messages: FakeMessage[], opts: { redeliver?: number; refuse?: { code: grpc.status; details: string }; port?: number } = {}) {
  let refuse = opts.refuse;
  const def = protoLoader.loadSync('google/pubsub/v1/pubsub.proto', { includeDirs: includeDirs(), keepCase: false, longs: String, enums: String, defaults: true, oneofs: true });
  const pkg = grpc.loadPackageDefinition(def) as any;
  const state = {
    streams: 0,
    refused: 0,
    acked: [] as string[],
    nacked: [] as string[],
    modacks: [] as Array<{ ackId: string; seconds: number }>,
    errors: [] as string[],
    /** ackId → messageId */
    delivered: new Map<string, string>(),
  };
  const byId = new Map(messages.map((m) => [m.messageId, m]));
  const attempts = new Map<string, number>();
  let active: grpc.ServerDuplexStream<any, any> | undefined;
  let seq = 0;
  const send = (m: FakeMessage) => {
    const attempt = (attempts.get(m.messageId) ?? 0) + 1;
    attempts.set(m.messageId, attempt);
    const ackId = `ack-${m.messageId}-${++seq}`;
    state.delivered.set(ackId, m.messageId);
    active?.write({
      receivedMessages: [
        {
          ackId,
          message: { data: m.data, attributes: m.attributes ?? {}, messageId: m.messageId, publishTime: { seconds: String(Math.floor(Date.now() / 1000)), nanos: 0 } },
          deliveryAttempt: attempt,
        },
      ],
    });
  };
  const checkSub = (name: string, call: string): grpc.ServiceError | null => {
    if (name === subscription) return null;
    state.errors.push(`${call}: subscription ${name}`);
    return Object.assign(new Error(`Resource not found (resource=${name}).`), { code: grpc.status.NOT_FOUND, details: 'Resource not found', metadata: new grpc.Metadata() });
  };
  const server = new grpc.Server();
  server.addService(pkg.google.pubsub.v1.Subscriber.service, {
    streamingPull(call: grpc.ServerDuplexStream<any, any>) {
      state.streams++;
      let first = true;
      call.on('data', (req: any) => {
        if (first) {
          first = false;
          const err = checkSub(req.subscription, 'StreamingPull');
          if (err) return void call.emit('error', err);
          if (refuse) {
            state.refused++;
            return void call.emit('error', Object.assign(new Error(refuse.details), { code: refuse.code, details: refuse.details, metadata: new grpc.Metadata() }));
          }
          if (!(Number(req.streamAckDeadlineSeconds) >= 10)) {
            state.errors.push('StreamingPull without stream_ack_deadline_seconds');
            return void call.emit('error', Object.assign(new Error('stream_ack_deadline_seconds must be 10..600'), { code: grpc.status.INVALID_ARGUMENT, details: 'stream_ack_deadline_seconds must be 10..600' }));
          }
          if (!active) {
            active = call;
            for (const m of messages) send(m);
          }
        }
        for (const id of req.ackIds ?? []) state.acked.push(id);
      });
      call.on('end', () => call.end());
      call.on('error', () => {});
      call.on('cancelled', () => {
        if (active === call) active = undefined;
      });
    },
    acknowledge(call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) {
      const err = checkSub(call.request.subscription, 'Acknowledge');
      if (err) return cb(err);
      state.acked.push(...call.request.ackIds);
      cb(null, {});
    },
    modifyAckDeadline(call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) {
      const err = checkSub(call.request.subscription, 'ModifyAckDeadline');
      if (err) return cb(err);
      const seconds = Number(call.request.ackDeadlineSeconds);
      for (const ackId of call.request.ackIds as string[]) {
        state.modacks.push({ ackId, seconds });
        if (seconds === 0) {
          state.nacked.push(ackId);
          const m = byId.get(state.delivered.get(ackId) ?? '');
          if (m && (attempts.get(m.messageId) ?? 0) <= (opts.redeliver ?? 0)) setTimeout(() => send(m), 10);
        }
      }
      cb(null, {});
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${opts.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  /** messageIds whose delivery was acked. */
  const ackedMessages = () => state.acked.map((a) => state.delivered.get(a));
  const nackedMessages = () => state.nacked.map((a) => state.delivered.get(a));
  return {
    endpoint: `127.0.0.1:${port}`,
    state,
    ackedMessages,
    nackedMessages,
    /** Stop refusing streams. */
    serve: () => void (refuse = undefined),
    close: () =>
      new Promise<void>((r) => {
        const force = setTimeout(() => server.forceShutdown(), 2000);
        server.tryShutdown(() => {
          clearTimeout(force);
          r();
        });
      }),
  };
}
