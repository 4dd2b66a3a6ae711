import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { LOC, PROJECT, V1, V1B, auditEntry, normOne } from './samples.js';

/**
 * Vertex AI Agent Engine (ReasoningEngineService) deploys a pickled Python object with its requirements and
 * dependency archive (`spec.packageSpec`), source code (`spec.sourceCodeSpec`) or an image (`spec.containerSpec`)
 * to a managed runtime: code running in production, judged by registry.unapproved_deployment by where it comes from.
 */

const NLOC = 'projects/123456789012/locations/us-central1';
const ENGINE = `${LOC}/reasoningEngines/555`;
const at = (h: number) => `2026-11-20T${String(h).padStart(2, '0')}:00:00Z`;
const pkg = (dir: string) => ({ pickleObjectGcsUri: `${dir}/agent_engine.pkl`, requirementsGcsUri: `${dir}/requirements.txt`, dependencyFilesGcsUri: `${dir}/dependencies.tar.gz`, pythonVersion: '3.11' });

const create = (spec: Record<string, unknown>, hour = 9) =>
  normOne(auditEntry({
    method: `${V1B}ReasoningEngineService.CreateReasoningEngine`,
    request: { '@type': 'type.googleapis.com/google.cloud.aiplatform.v1beta1.CreateReasoningEngineRequest', parent: LOC, reasoningEngine: { displayName: 'support-agent', spec: { agentFramework: 'google-adk', ...spec } } },
    response: { '@type': 'type.googleapis.com/google.longrunning.Operation', name: `${NLOC}/reasoningEngines/555/operations/9` },
    principal: 'ci@example.com',
    timestamp: at(hour),
  }));
const update = (spec: Record<string, unknown>, updateMask: string, hour = 10, principal = 'mallory@example.com') =>
  normOne(auditEntry({
    method: `${V1}ReasoningEngineService.UpdateReasoningEngine`,
    resourceName: ENGINE,
    request: { '@type': 'type.googleapis.com/google.cloud.aiplatform.v1.UpdateReasoningEngineRequest', reasoningEngine: { name: ENGINE, displayName: 'support-agent', spec }, updateMask },
    response: { name: `${NLOC}/reasoningEngines/555/operations/10` },
    principal,
    timestamp: at(hour),
  }));

const rules = (settings: Record<string, unknown> = {}) => RulesConfig.parse({ 'registry.unapproved_deployment': settings });
const agentAlerts = (events: ReturnType<typeof normOne>[], settings?: Record<string, unknown>) =>
  replayEvents(events, { rules: rules(settings) }).alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment');

describe('Agent Engine deployments', () => {
  it('a CreateReasoningEngine is a serving deployment of its pickle to the engine, with its dependencies in ml.deployment', () => {
    const ev = create({ packageSpec: pkg('gs://corp-agents/agent_engine') });
    expect([ev.stage, ev.action, ev.resource?.type]).toEqual(['serving', 'endpoint.deploy', 'reasoning_engine']);
    expect(ev.ml?.model?.artifact_uri).toBe('gs://corp-agents/agent_engine/agent_engine.pkl');
    // The engine is named by the operation (project number rewritten to the id), as the Update names it.
    expect(ev.ml?.deployment).toMatchObject({
      endpoint: `projects/${PROJECT}/locations/us-central1/reasoningEngines/555`,
      code_uris: ['gs://corp-agents/agent_engine/agent_engine.pkl', 'gs://corp-agents/agent_engine/requirements.txt', 'gs://corp-agents/agent_engine/dependencies.tar.gz'],
      python_version: '3.11',
      agent_framework: 'google-adk',
    });
  });

  it('routine deployments from the engine\'s own location do not alert; an update re-pointing it at other code does', () => {
    const first = create({ packageSpec: pkg('gs://corp-agents/agent_engine') });
    const again = update({ packageSpec: pkg('gs://corp-agents/agent_engine') }, 'spec.package_spec', 10, 'ci@example.com');
    expect(agentAlerts([first, again])).toEqual([]);
    const swap = update({ packageSpec: { pickleObjectGcsUri: 'gs://mallory-scratch/agent.pkl', requirementsGcsUri: 'gs://corp-agents/agent_engine/requirements.txt' } }, 'spec.package_spec.pickle_object_gcs_uri,spec.package_spec.requirements_gcs_uri', 11);
    const alerts = agentAlerts([first, again, swap]);
    expect(alerts.map((a) => [a.entity.id, a.details.reason, a.details.offending_code, a.details.deployer])).toEqual([
      [ENGINE, 'agent_source_changed', ['gs://mallory-scratch/agent.pkl'], 'mallory@example.com'],
    ]);
    // An update of the display name alone deploys no code.
    const rename = update({ packageSpec: { pickleObjectGcsUri: 'gs://mallory-scratch/agent.pkl' } }, 'display_name', 12);
    expect(rename.action).toBe('endpoint.update');
    expect(agentAlerts([first, rename])).toEqual([]);
  });

  it('a new engine is judged by the code locations of its project\'s engines: daily fresh engines from the staging bucket are quiet, one from another bucket alerts', () => {
    /** `agent_engines.create` per release: a new engine id each day, in `project` (its audit entry's project). */
    const fresh = (id: number, dir: string, day: number, principal = 'ci@example.com', project = PROJECT) => {
      const entry = auditEntry({
        method: `${V1}ReasoningEngineService.CreateReasoningEngine`,
        request: { parent: `projects/${project}/locations/us-central1`, reasoningEngine: { displayName: `support-agent-${id}`, spec: { packageSpec: pkg(dir) } } },
        response: { name: `projects/${project}/locations/us-central1/reasoningEngines/${id}/operations/1` },
        principal,
        timestamp: `2026-11-${String(day).padStart(2, '0')}T09:00:00Z`,
      });
      (entry.resource as { labels: Record<string, string> }).labels.project_id = project;
      return normOne(entry);
    };
    const daily = Array.from({ length: 10 }, (_, i) => fresh(700 + i, `gs://corp-agents-staging/build-${i}`, 10 + i));
    expect(agentAlerts(daily)).toEqual([]);
    const planted = fresh(799, 'gs://mallory-scratch/agent', 21, 'mallory@example.com');
    const alerts = agentAlerts([...daily, planted]);
    expect(alerts.map((a) => [a.entity.id, a.details.reason, a.details.offending_code, a.details.known_locations, a.details.deployer])).toEqual([
      [`${LOC}/reasoningEngines/799`, 'agent_source_new_to_project', ['gs://mallory-scratch/agent/agent_engine.pkl', 'gs://mallory-scratch/agent/requirements.txt', 'gs://mallory-scratch/agent/dependencies.tar.gz'], ['gs://corp-agents-staging'], 'mallory@example.com'],
    ]);
    // Another project's first engine is learned there: its team's bucket is no finding.
    expect(agentAlerts([...daily, fresh(800, 'gs://dev-team-agents/a', 21, 'dev@example.com', 'ml-dev-456')])).toEqual([]);
  });

  it('with agent_sources set, code outside them alerts (source code from a Git revision, an inline archive), code inside does not', () => {
    const allowed = { agent_sources: ['gs://corp-agents/*'] };
    expect(agentAlerts([create({ packageSpec: pkg('gs://corp-agents/agent_engine') })], allowed)).toEqual([]);
    const scratch = agentAlerts([create({ packageSpec: pkg('gs://scratch-bucket/agent_engine') })], allowed);
    expect(scratch.map((a) => [a.details.reason, (a.details.offending_code as string[]).length])).toEqual([['agent_source_not_allowed', 3]]);
    const git = create({ sourceCodeSpec: { developerConnectSource: { config: { gitRepositoryLink: `${LOC}/connections/gh/gitRepositoryLinks/agents`, dir: 'support', revision: 'main' } }, pythonSpec: { version: '3.12', entrypointModule: 'agent', entrypointObject: 'app' } } });
    expect(git.ml?.deployment?.code_uris).toEqual([`${LOC}/connections/gh/gitRepositoryLinks/agents/support@main`]);
    expect(agentAlerts([git], allowed).map((a) => a.details.offending_code)).toEqual([[`${LOC}/connections/gh/gitRepositoryLinks/agents/support@main`]]);
    expect(agentAlerts([create({ sourceCodeSpec: { inlineSource: {} } })], allowed).map((a) => a.details.offending_code)).toEqual([['inline']]);
  });

  it('a pickle under an approved model version\'s artifact is vouched for by it', () => {
    const upload = normOne(auditEntry({
      method: `${V1}ModelService.UploadModel`,
      request: { parent: LOC, model: { displayName: 'support-agent', artifactUri: 'gs://scratch-bucket/agent_engine/', versionAliases: ['production'] } },
      response: { name: `${LOC}/models/31/operations/1` },
      timestamp: at(8),
    }));
    expect(agentAlerts([upload, create({ packageSpec: pkg('gs://scratch-bucket/agent_engine') })], { agent_sources: ['gs://corp-agents/*'] })).toEqual([]);
  });

  it('an approved pickle does not vouch for requirements or a dependency archive fetched from elsewhere: those are judged', () => {
    const upload = normOne(auditEntry({
      method: `${V1}ModelService.UploadModel`,
      request: { parent: LOC, model: { displayName: 'support-agent', artifactUri: 'gs://corp-agents/agent_engine/', versionAliases: ['production'] } },
      response: { name: `${LOC}/models/31/operations/1` },
      timestamp: at(8),
    }));
    const mixed = { packageSpec: { ...pkg('gs://corp-agents/agent_engine'), dependencyFilesGcsUri: 'gs://mallory-scratch/dependencies.tar.gz' } };
    const allowed = agentAlerts([upload, create(mixed)], { agent_sources: ['gs://corp-agents/*'] });
    expect(allowed.map((a) => [a.details.reason, a.details.offending_code])).toEqual([['agent_source_not_allowed', ['gs://mallory-scratch/dependencies.tar.gz']]]);
    // Learned locations: the engine deployed from its bucket, then its dependency archive swapped for another bucket's.
    const first = create({ packageSpec: pkg('gs://corp-agents/agent_engine') });
    const swap = update(mixed, 'spec.package_spec.dependency_files_gcs_uri', 11);
    expect(agentAlerts([upload, first, swap]).map((a) => [a.details.reason, a.details.offending_code])).toEqual([['agent_source_changed', ['gs://mallory-scratch/dependencies.tar.gz']]]);
    // All of it under the approved artifact: nothing to judge.
    expect(agentAlerts([upload, first, update({ packageSpec: pkg('gs://corp-agents/agent_engine') }, 'spec', 12)], { agent_sources: ['gs://elsewhere/*'] })).toEqual([]);
  });

  it('an approved artifact vouches for code under it only, not in a sibling prefix sharing its name (verify29b)', () => {
    const upload = normOne(auditEntry({
      method: `${V1}ModelService.UploadModel`,
      request: { parent: LOC, model: { displayName: 'support-agent', artifactUri: 'gs://corp-agents/agent_engine/', versionAliases: ['production'] } },
      response: { name: `${LOC}/models/31/operations/1` },
      timestamp: at(8),
    }));
    const sibling = { packageSpec: { ...pkg('gs://corp-agents/agent_engine'), requirementsGcsUri: 'gs://corp-agents/agent_engine-evil/requirements.txt' } };
    expect(agentAlerts([upload, create(sibling)], { agent_sources: ['gs://elsewhere/*'] }).map((a) => a.details.offending_code)).toEqual([['gs://corp-agents/agent_engine-evil/requirements.txt']]);
  });

  it('the agent\'s container image (spec.containerSpec) is judged as a serving image', () => {
    const ev = create({ containerSpec: { imageUri: 'docker.io/evilcorp/agent:latest' } });
    expect(ev.ml?.model?.image).toBe('docker.io/evilcorp/agent:latest');
    const alerts = replayEvents([ev], { rules: rules() }).alerts.filter((a) => a.rule_id === 'serving.unverified_image');
    expect(alerts.map((a) => a.details.images)).toEqual([['docker.io/evilcorp/agent:latest']]);
  });

  describe('source code (spec.sourceCodeSpec)', () => {
    /** A source archive as the SDK sends it: a .tar.gz's bytes, base64 in the request's proto3 JSON. */
    const archive = (text: string) => gzipSync(Buffer.from(text));
    const inline = (bytes?: Buffer) => ({ sourceCodeSpec: { inlineSource: bytes ? { sourceArchive: bytes.toString('base64') } : {}, pythonSpec: { version: '3.12' } } });
    const digestOf = (bytes: Buffer) => `inline:sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const v1 = archive('agent.py: v1');
    const v2 = archive('agent.py: mallory');

    it('an inline archive in the log is known by its digest: another archive on the engine is agent_source_changed, a rollback is not', () => {
      const first = create(inline(v1));
      expect(first.ml?.deployment?.code_uris).toEqual([digestOf(v1)]);
      expect(first.details?.agent_source_unverifiable).toBeUndefined();
      const swap = update(inline(v2), 'spec.source_code_spec', 11);
      const alerts = agentAlerts([first, swap]);
      expect(alerts.map((a) => [a.details.reason, a.details.offending_code, a.details.known_locations])).toEqual([['agent_source_changed', [digestOf(v2)], [digestOf(v1)]]]);
      expect(agentAlerts([first, swap, update(inline(v1), 'spec.source_code_spec', 12, 'ci@example.com')])).toHaveLength(1);
      // agent_sources pins archives by digest.
      expect(agentAlerts([first], { agent_sources: [digestOf(v1)] })).toEqual([]);
      expect(agentAlerts([swap], { agent_sources: [digestOf(v1)] }).map((a) => a.details.offending_code)).toEqual([[digestOf(v2)]]);
    });

    it('a new engine from an inline archive is not new to its project for its digest alone: every release is a new archive', () => {
      const other = normOne(auditEntry({
        method: `${V1}ReasoningEngineService.CreateReasoningEngine`,
        request: { parent: LOC, reasoningEngine: { displayName: 'support-agent-2', spec: inline(v2) } },
        response: { name: `${NLOC}/reasoningEngines/556/operations/1` },
        timestamp: at(12),
      }));
      expect(agentAlerts([create(inline(v1)), other])).toEqual([]);
    });

    it('an archive the log does not carry (or carries split in parts) is `inline`, marked unverifiable: quiet by default, an alert with agent_sources set', () => {
      const bare = create(inline());
      expect(bare.ml?.deployment?.code_uris).toEqual(['inline']);
      expect(bare.details?.agent_source_unverifiable).toBe(true);
      // One part of a split entry: the archive string may be a part of the logged value, its digest no identity.
      const entry = auditEntry({
        method: `${V1}ReasoningEngineService.UpdateReasoningEngine`,
        resourceName: ENGINE,
        request: { reasoningEngine: { name: ENGINE, spec: inline(v2) }, updateMask: 'spec.source_code_spec' },
        timestamp: at(11),
      });
      const part = normOne({ ...entry, split: { uid: 'u1', index: 0, totalSplits: 2 } });
      expect([part.ml?.deployment?.code_uris, part.details?.agent_source_unverifiable]).toEqual([['inline'], true]);
      // Default: nothing tells one unlogged archive from the last (nor from a digest seen before), no finding.
      expect(agentAlerts([bare, part])).toEqual([]);
      expect(agentAlerts([create(inline(v1)), part])).toEqual([]);
      // An engine known only as `inline` learns its first digest, then compares.
      expect(agentAlerts([bare, update(inline(v1), 'spec', 11), update(inline(v2), 'spec', 12)]).map((a) => a.details.offending_code)).toEqual([[digestOf(v2)]]);
      // agent_sources set (strict): an archive that cannot be checked against them is a finding, said so.
      const strict = agentAlerts([bare], { agent_sources: [digestOf(v1)] });
      expect(strict.map((a) => [a.details.reason, a.details.agent_source_unverifiable])).toEqual([['agent_source_not_allowed', true]]);
      expect(strict[0]!.summary).toContain('not in the audit log');
      // Listing `inline` itself accepts inline archives unseen.
      expect(agentAlerts([bare], { agent_sources: ['inline'] })).toEqual([]);
    });

    it('an agent built from an ADK config (agentConfigSource) is `inline`, unverifiable: re-pointing a Git-deployed engine at one is agent_source_changed', () => {
      // The config (and its optional files archive) defines the agent: no identity for it, even with the archive logged.
      const adk = (files?: Buffer) => ({ sourceCodeSpec: { agentConfigSource: { adkConfig: { jsonConfig: { name: 'support', model: 'gemini-2.5-flash', instruction: 'help' } }, ...(files ? { inlineSource: { sourceArchive: files.toString('base64') } } : {}) } } });
      for (const files of [undefined, v1]) {
        const ev = create(adk(files));
        expect([ev.ml?.deployment?.code_uris, ev.details?.agent_source_unverifiable]).toEqual([['inline'], true]);
      }
      const fromGit = create({ sourceCodeSpec: { developerConnectSource: { config: { gitRepositoryLink: REPO, dir: 'support', revision: 'main' } } } });
      const alerts = agentAlerts([fromGit, update(adk(), 'spec.source_code_spec', 11)]);
      expect(alerts.map((a) => [a.details.reason, a.details.offending_code, a.details.known_locations])).toEqual([['agent_source_changed', ['inline'], [REPO]]]);
      // agent_sources set: a finding unless `inline` is listed.
      expect(agentAlerts([create(adk(v1))], { agent_sources: [digestOf(v1)] }).map((a) => a.details.reason)).toEqual(['agent_source_not_allowed']);
      expect(agentAlerts([create(adk(v1))], { agent_sources: ['inline'] })).toEqual([]);
    });

    const REPO = `${LOC}/connections/gh/gitRepositoryLinks/agents`;
    const git = (revision: string, link = REPO, dir = 'support') => ({ sourceCodeSpec: { developerConnectSource: { config: { gitRepositoryLink: link, dir, revision } }, pythonSpec: { version: '3.12' } } });

    it('a Git source is its repository: a new revision (branch, tag, commit) is a release, another repository is agent_source_changed', () => {
      const first = create(git('feature/login'));
      expect(first.details?.agent_source_revision).toBe('feature/login');
      expect(first.ml?.code).toEqual({ repo: REPO });
      const sha = '3f786850e387550fdab836ed7e6dc881de23001b';
      const release = update(git(sha), 'spec.source_code_spec.developer_connect_source', 11, 'ci@example.com');
      expect(release.ml?.code).toEqual({ repo: REPO, commit: sha });
      expect(agentAlerts([first, update(git('feature/signup'), 'spec', 11, 'ci@example.com'), release, update(git('v1.4.0', REPO, 'support/v2'), 'spec', 12, 'ci@example.com')])).toEqual([]);
      const fork = update(git('main', `${LOC}/connections/gh/gitRepositoryLinks/agents-fork`), 'spec', 13);
      const alerts = agentAlerts([first, release, fork]);
      expect(alerts.map((a) => [a.details.reason, a.details.offending_code, a.details.known_locations, a.details.revision])).toEqual([
        ['agent_source_changed', [`${LOC}/connections/gh/gitRepositoryLinks/agents-fork/support@main`], [REPO], 'main'],
      ]);
    });

    it('the repository link names its project as other names do; agent_sources globs pin revisions', () => {
      const numbered = create(git('v1.4.0', `${NLOC}/connections/gh/gitRepositoryLinks/agents`, './'));
      expect(numbered.ml?.deployment?.code_uris).toEqual([`${REPO}@v1.4.0`]);
      const tags = { agent_sources: [`${REPO}/*@v*`] };
      expect(agentAlerts([create(git('v1.4.0'))], tags)).toEqual([]);
      expect(agentAlerts([create(git('mallory-branch'))], tags).map((a) => [a.details.reason, a.details.revision])).toEqual([['agent_source_not_allowed', 'mallory-branch']]);
    });
  });

  it('queries of an engine are invocations of it', () => {
    const q = normOne(auditEntry({ method: `${V1}ReasoningEngineExecutionService.QueryReasoningEngine`, resourceName: ENGINE, log: 'data_access', request: { name: ENGINE } }));
    expect([q.stage, q.action]).toEqual(['serving', 'endpoint.invoke']);
  });
});
