import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { encodeAuditLogAny, toStruct } from '../../../connectors/vertex/audit-proto.js';

const require = createRequire(import.meta.url);

function packageDir(fromRequire: NodeRequire, name: string, marker: string): string {
  let dir = dirname(fromRequire.resolve(name));
  while (!existsSync(join(dir, marker)) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

function includeDirs(): string[] {
  const loggingRequire = createRequire(require.resolve('@google-cloud/logging'));
  const api = packageDir(loggingRequire, '@google-cloud/logging-api', 'build/protos/google/logging/v2');
  const gax = packageDir(loggingRequire, 'google-gax', 'build/protos/google/api');
  return [join(api, 'build/protos'), join(gax, 'build/protos')];
}

/** A JSON LogEntry (as Pub/Sub or REST carry it) → the proto object form the gRPC API sends. */
export function toProtoEntry(e: Record<string, any>): Record<string, unknown> {
  const ts = (s: string) => {
    const m = /^(.*?)(?:\.(\d+))?Z$/.exec(s)!;
    return { seconds: String(Math.floor(Date.parse(`${m[1]}Z`) / 1000)), nanos: Number((m[2] ?? '').padEnd(9, '0')) };
  };
  const out: Record<string, unknown> = {
    logName: e.logName,
    insertId: e.insertId,
    resource: e.resource,
    timestamp: ts(e.timestamp),
    receiveTimestamp: e.receiveTimestamp ? ts(e.receiveTimestamp) : undefined,
    severity: e.severity,
  };
  if (e.protoPayload) {
    const any = encodeAuditLogAny(e.protoPayload);
    out.protoPayload = any; // proto-loader keeps Any's field names as declared: type_url, value
  }
  if (e.jsonPayload) out.jsonPayload = toStruct(e.jsonPayload);
  return out;
}

/**
 * A strict local fake of google.logging.v2.LoggingServiceV2/ListLogEntries:
 * requires the project resource name, an explicit timestamp window in the
 * filter and orderBy "timestamp asc"; pages by pageSize with opaque tokens.
 */
export async function startFakeLogging(project: string, entries: Array<Record<string, any>>) {
  const def = protoLoader.loadSync('google/logging/v2/logging.proto', { includeDirs: includeDirs(), keepCase: false, longs: String, enums: String, defaults: false, oneofs: true });
  const pkg = grpc.loadPackageDefinition(def) as any;
  const requests: Array<Record<string, any>> = [];
  const server = new grpc.Server();
  const fail = (cb: grpc.sendUnaryData<any>, code: grpc.status, details: string) => cb(Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() }));
  server.addService(pkg.google.logging.v2.LoggingServiceV2.service, {
    listLogEntries(call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) {
      const req = call.request;
      requests.push(req);
      const m = /timestamp>="([^"]+)" AND timestamp<"([^"]+)"$/.exec(req.filter ?? '');
      if (JSON.stringify(req.resourceNames) !== JSON.stringify([`projects/${project}`])) return fail(cb, grpc.status.PERMISSION_DENIED, `no access to ${req.resourceNames}`);
      if (!m || req.orderBy !== 'timestamp asc') return fail(cb, grpc.status.INVALID_ARGUMENT, `filter needs an explicit window and orderBy "timestamp asc": ${req.filter} / ${req.orderBy}`);
      const [since, until] = [Date.parse(m[1]!), Date.parse(m[2]!)];
      const inWindow = entries.filter((e) => Date.parse(e.timestamp) >= since && Date.parse(e.timestamp) < until);
      const start = req.pageToken ? Number(Buffer.from(req.pageToken, 'base64').toString()) : 0;
      const size = Number(req.pageSize) || 50;
      const next = start + size < inWindow.length ? Buffer.from(String(start + size)).toString('base64') : '';
      cb(null, { entries: inWindow.slice(start, start + size).map(toProtoEntry), nextPageToken: next });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { endpoint: `127.0.0.1:${port}`, requests, close: () => new Promise<void>((r) => server.tryShutdown(() => r())) };
}
