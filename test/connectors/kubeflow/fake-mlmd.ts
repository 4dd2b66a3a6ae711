import { Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { decodeMessage, encodeMessage, mlmdServiceDefinition } from '../../../connectors/kubeflow/mlmd/proto.js';
import type { ListOptions, MlmdArtifact, MlmdContext, MlmdEvent, MlmdExecution, MlmdValue } from '../../../connectors/kubeflow/mlmd/types.js';
import { canonicalJson } from '../../../core/schema/index.js';

/** An in-memory ML Metadata store that speaks the real gRPC protocol, strictly. */
export class FakeMlmd {
  contexts: MlmdContext[] = [];
  parents: Array<{ child: string; parent: string }> = [];
  executions: MlmdExecution[] = [];
  associations: Array<{ execution: string; context: string }> = [];
  artifacts: MlmdArtifact[] = [];
  events: MlmdEvent[] = [];
  /** Every GetExecutions request as received. */
  listCalls: ListOptions[] = [];
  calls: string[] = [];
  private server = new Server();
  address = '';

  /** `creds`: insecure by default; pass ServerCredentials.createSsl(...) to serve over TLS. */
  async start(creds: ServerCredentials = ServerCredentials.createInsecure()): Promise<string> {
    const h = <Req, Res>(name: string, fn: (req: Req) => Res) => (call: ServerUnaryCall<Req, Res>, cb: sendUnaryData<Res>) => {
      this.calls.push(name);
      try {
        cb(null, fn(call.request));
      } catch (err) {
        cb({ code: (err as { code?: number }).code ?? status.INTERNAL, details: (err as Error).message } as never, null);
      }
    };
    this.server.addService(mlmdServiceDefinition, {
      GetExecutions: h('GetExecutions', (req: { options?: ListOptions }) => {
        this.listCalls.push(req.options ?? {});
        return this.list(this.executions, req.options);
      }),
      GetExecutionsByContext: h('GetExecutionsByContext', (req: { context_id: string; options?: ListOptions }) => {
        const ids = new Set(this.associations.filter((a) => a.context === req.context_id).map((a) => a.execution));
        return this.list(this.executions.filter((e) => ids.has(e.id)), req.options);
      }),
      GetContextsByExecution: h('GetContextsByExecution', (req: { execution_id: string }) => {
        const ids = new Set(this.associations.filter((a) => a.execution === req.execution_id).map((a) => a.context));
        return { contexts: this.contexts.filter((c) => ids.has(c.id)) };
      }),
      GetParentContextsByContext: h('GetParentContextsByContext', (req: { context_id: string }) => {
        const ids = new Set(this.parents.filter((p) => p.child === req.context_id).map((p) => p.parent));
        return { contexts: this.contexts.filter((c) => ids.has(c.id)) };
      }),
      GetEventsByExecutionIDs: h('GetEventsByExecutionIDs', (req: { execution_ids?: string[] }) => {
        const ids = new Set(req.execution_ids ?? []);
        return { events: this.events.filter((e) => ids.has(e.execution_id!)) };
      }),
      GetArtifactsByID: h('GetArtifactsByID', (req: { artifact_ids?: string[] }) => {
        const ids = new Set(req.artifact_ids ?? []);
        return { artifacts: this.artifacts.filter((a) => ids.has(a.id)) };
      }),
    });
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync('127.0.0.1:0', creds, (err, p) => (err ? reject(err) : resolve(p))),
    );
    this.address = `127.0.0.1:${port}`;
    return this.address;
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server.tryShutdown(() => r()));
  }

  /**
   * MLMD list semantics: max_result_size > 0 (capped at 100), order by
   * LAST_UPDATE_TIME or ID with id as tie-breaker, the filter grammar subset
   * the poller uses, and a web-safe base64 ListOperationNextPageToken that
   * embeds the first call's options: later pages must keep its ordering, and
   * its filter applies whatever the later call sends.
   */
  private list<T extends MlmdExecution>(rows: T[], options: ListOptions = {}): { executions: T[]; next_page_token?: string } {
    const fail = (msg: string) => Object.assign(new Error(msg), { code: status.INVALID_ARGUMENT });
    const size = options.max_result_size ?? 20;
    if (size <= 0) throw fail('max_result_size field value is required to be greater than 0');
    const { next_page_token: token, ...set } = options;
    let filterQuery = options.filter_query;
    let after: { field: number; id: number; listed: string[] } | undefined;
    if (token) {
      const decoded = decodeMessage<{ id_offset?: string; field_offset?: string; set_options?: ListOptions; listed_ids?: string[] }>(
        'ListOperationNextPageToken',
        Buffer.from(token.replace(/-/g, '+').replace(/_/g, '/'), 'base64'),
      );
      // As upstream (ValidateListOperationOptionsAreIdentical): the ordering must match the first call's…
      const prev = decoded.set_options?.order_by_field ?? {};
      const cur = set.order_by_field ?? {};
      if ((prev.field ?? 'ID') !== (cur.field ?? 'ID') || (prev.is_asc ?? true) !== (cur.is_asc ?? true)) {
        throw fail(`ListOperationOptions mismatch between calls Initial Options: ${canonicalJson(prev)} Current Options: ${canonicalJson(cur)}`);
      }
      // …and the filter of the first call, carried in the token, governs every later page.
      filterQuery = decoded.set_options?.filter_query;
      after = { field: Number(decoded.field_offset ?? 0), id: Number(decoded.id_offset ?? 0), listed: decoded.listed_ids ?? [] };
    }
    const byUpdate = options.order_by_field?.field === 'LAST_UPDATE_TIME';
    const key = (r: T) => (byUpdate ? Number(r.last_update_time_since_epoch) : Number(r.id));
    let selected = [...rows];
    if (filterQuery) {
      const m = /^last_update_time_since_epoch (>=|>) (\d+)$/.exec(filterQuery);
      if (!m) throw fail(`cannot parse filter_query: ${filterQuery}`);
      const t = Number(m[2]);
      selected = selected.filter((r) => (m[1] === '>=' ? Number(r.last_update_time_since_epoch) >= t : Number(r.last_update_time_since_epoch) > t));
    }
    selected.sort((a, b) => key(a) - key(b) || Number(a.id) - Number(b.id));
    if (after) selected = selected.filter((r) => key(r) > after!.field || (key(r) === after!.field && Number(r.id) > after!.id));
    const page = selected.slice(0, Math.min(size, 100));
    const more = selected.length > page.length;
    const last = page[page.length - 1];
    const next = more && last
      ? encodeMessage('ListOperationNextPageToken', { id_offset: last.id, field_offset: String(key(last)), set_options: set, listed_ids: page.map((r) => r.id) })
          .toString('base64').replace(/\+/g, '-').replace(/\//g, '_')
      : undefined;
    return { executions: page, next_page_token: next };
  }
}

export const str = (v: string): MlmdValue => ({ string_value: v });
export const int = (v: number): MlmdValue => ({ int_value: String(v) });
export const dbl = (v: number): MlmdValue => ({ double_value: v });
export const struct = (o: Record<string, unknown>): MlmdValue => ({ struct_value: toStruct(o) });

function toPbValue(v: unknown): Record<string, unknown> {
  if (typeof v === 'number') return { number_value: v };
  if (typeof v === 'string') return { string_value: v };
  if (typeof v === 'boolean') return { bool_value: v };
  if (Array.isArray(v)) return { list_value: { values: v.map(toPbValue) } };
  if (v && typeof v === 'object') return { struct_value: toStruct(v as Record<string, unknown>) };
  return { null_value: 0 };
}
function toStruct(o: Record<string, unknown>): any {
  return { fields: Object.fromEntries(Object.entries(o).map(([k, v]) => [k, toPbValue(v)])) };
}

export const RUN_ID = '5e7c6a3e-9f59-4c1e-8c2f-2f1d4c6b7a10';
const ROOT = `minio://mlpipeline/v2/artifacts/fraud-detector-training/${RUN_ID}`;
const SESSION = JSON.stringify({ Provider: 'minio', Params: { fromEnv: 'false', secretName: 'mlpipeline-minio-artifact', accessKeyKey: 'accesskey', secretKeyKey: 'secretkey', endpoint: 'minio-service.kubeflow:9000', region: 'minio', disableSSL: 'true' } });

/**
 * A KFP v2 run as the driver/launcher record it: pipeline and run contexts
 * (run is a child of pipeline), a root DAG, three container tasks
 * (load-data → train → evaluate) with their datasets, model and metrics, and
 * INPUT/OUTPUT events keyed by artifact role. `evaluate` is still running.
 */
export function seedKfpRun(db: FakeMlmd, t0: number): void {
  db.contexts.push(
    { id: '1', type_id: '11', type: 'system.Pipeline', name: 'fraud-detector-training', create_time_since_epoch: String(t0), last_update_time_since_epoch: String(t0) },
    {
      id: '2', type_id: '12', type: 'system.PipelineRun', name: RUN_ID,
      custom_properties: { namespace: str('kubeflow-user-alice'), resource_name: str('run-resource'), pipeline_root: str(ROOT), store_session_info: str(SESSION) },
      create_time_since_epoch: String(t0), last_update_time_since_epoch: String(t0),
    },
  );
  db.parents.push({ child: '2', parent: '1' });
  const exec = (id: string, type: string, state: string, created: number, updated: number, props: Record<string, MlmdValue>, name?: string) => {
    db.executions.push({ id, type_id: type === 'system.DAGExecution' ? '21' : '22', type, name, last_known_state: state, custom_properties: props, create_time_since_epoch: String(created), last_update_time_since_epoch: String(updated) });
    db.associations.push({ execution: id, context: '1' }, { execution: id, context: '2' });
  };
  const task = (n: string, pod: string) => ({ display_name: str(n), task_name: str(n), parent_dag_id: int(10), pod_name: str(pod), pod_uid: str(`uid-${n}`), namespace: str('kubeflow-user-alice'), image: str(''), cache_fingerprint: str(`fp-${n}`) });
  exec('10', 'system.DAGExecution', 'RUNNING', t0 + 100, t0 + 100, { display_name: str(''), task_name: str(''), inputs: struct({ learning_rate: 0.01, epochs: 5, source_table: 'payments.transactions_2026q3' }) }, `run/${RUN_ID}`);
  exec('11', 'system.ContainerExecution', 'COMPLETE', t0 + 200, t0 + 5_000, task('load-data', `fraud-detector-training-x2k9q-system-container-impl-1111`));
  exec('12', 'system.ContainerExecution', 'COMPLETE', t0 + 5_100, t0 + 60_000, task('train', `fraud-detector-training-x2k9q-system-container-impl-2222`));
  exec('13', 'system.ContainerExecution', 'RUNNING', t0 + 60_100, t0 + 60_200, task('evaluate', `fraud-detector-training-x2k9q-system-container-impl-3333`));
  const art = (id: string, type: string, uri: string, created: number, props: Record<string, MlmdValue>) =>
    db.artifacts.push({ id, type_id: type, type, uri, state: 'LIVE', custom_properties: { store_session_info: str(SESSION), ...props }, create_time_since_epoch: String(created), last_update_time_since_epoch: String(created) });
  art('100', 'system.Dataset', `${ROOT}/load-data/6f1e/dataset`, t0 + 4_900, { display_name: str('dataset'), rows: dbl(120_000) });
  art('101', 'system.Model', `${ROOT}/train/9a2b/model`, t0 + 59_900, { display_name: str('model'), framework: str('xgboost') });
  const ev = (exec: string, artifact: string, type: string, key: string, at: number) =>
    db.events.push({ execution_id: exec, artifact_id: artifact, type, path: { steps: [{ key }] }, milliseconds_since_epoch: String(at) });
  ev('11', '100', 'OUTPUT', 'dataset', t0 + 4_900);
  ev('12', '100', 'INPUT', 'training_data', t0 + 5_100);
  ev('12', '101', 'OUTPUT', 'model', t0 + 59_900);
  ev('13', '101', 'INPUT', 'model', t0 + 60_100);
  ev('13', '100', 'INPUT', 'test_data', t0 + 60_100);
}

/** `evaluate` publishes its metrics and the root DAG completes. */
export function finishKfpRun(db: FakeMlmd, t0: number): void {
  const x13 = db.executions.find((e) => e.id === '13')!;
  x13.last_known_state = 'COMPLETE';
  x13.last_update_time_since_epoch = String(t0 + 90_000);
  const root = db.executions.find((e) => e.id === '10')!;
  root.last_known_state = 'COMPLETE';
  root.last_update_time_since_epoch = String(t0 + 90_500);
  db.artifacts.push(
    { id: '102', type_id: '33', type: 'system.Metrics', uri: `${ROOT}/evaluate/c3d4/metrics`, state: 'LIVE', custom_properties: { display_name: str('metrics'), store_session_info: str(SESSION), accuracy: dbl(0.943), auc: dbl(0.981), f1: dbl(0.912) }, create_time_since_epoch: String(t0 + 89_900), last_update_time_since_epoch: String(t0 + 89_900) },
    {
      id: '103', type_id: '34', type: 'system.ClassificationMetrics', uri: `${ROOT}/evaluate/c3d4/confusion`, state: 'LIVE',
      custom_properties: {
        display_name: str('confusion'),
        confusionMatrix: struct({ struct: { annotationSpecs: [{ displayName: 'legit' }, { displayName: 'fraud' }], rows: [{ row: [9500, 120] }, { row: [80, 300] }] } }),
      },
      create_time_since_epoch: String(t0 + 89_900), last_update_time_since_epoch: String(t0 + 89_900),
    },
  );
  db.events.push(
    { execution_id: '13', artifact_id: '102', type: 'OUTPUT', path: { steps: [{ key: 'metrics' }] }, milliseconds_since_epoch: String(t0 + 89_900) },
    { execution_id: '13', artifact_id: '103', type: 'OUTPUT', path: { steps: [{ key: 'confusion' }] }, milliseconds_since_epoch: String(t0 + 89_900) },
  );
}
