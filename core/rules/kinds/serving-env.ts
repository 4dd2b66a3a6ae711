import { endpointOf, identityOf, isDeployment } from '../facts.js';
import { endpointEntity, type KindImpl } from './context.js';
import { runtimeSourceDetails } from './serving-runtime.js';
import { stringList } from './shared.js';

/**
 * A KServe `models:/…` deployment whose registry URI its env gives literally, but where part of what decides the
 * bytes is in a source the audit log does not show (the connector's verdicts): an artifact endpoint or proxy set by
 * reference where the cluster lists `artifact_endpoints` (`details.artifact_endpoint_unverifiable`, names in
 * `details.artifact_env_unverifiable`), or an MLflow name the env does not list that only an unprefixed `envFrom`
 * Secret could set (`details.mlflow_env_secret_unverifiable`). The registry doubt proper (a hidden registry URI,
 * `registry_unverifiable`) is registry.unapproved_deployment's; this one is a lesser finding of its own, since a
 * credentials Secret mounted whole is how most MinIO installs give S3 settings.
 */
export const modelSourceUnverifiable: KindImpl = (ev, ctx) => {
  if (ev.platform !== 'kubeflow' || !isDeployment(ev)) return;
  const d = ev.details ?? {};
  const artifact = d.artifact_endpoint_unverifiable === true ? stringList(d.artifact_env_unverifiable) : [];
  const secret = stringList(d.mlflow_env_secret_unverifiable);
  const ep = endpointOf(ev);
  if (!ep || (!artifact.length && !secret.length)) return;
  const who = identityOf(ev.actor, ctx.cfg);
  const said = [
    ...(artifact.length ? [`its artifact endpoints or proxies ${artifact.join(', ')} come from a source the audit log does not show, so whether they are in the cluster's artifact_endpoints cannot be told`] : []),
    ...(secret.length ? [`its env does not list ${secret.join(', ')}, which an envFrom Secret without prefix could set over the registry it names`] : []),
  ];
  ctx.detect({
    entity: endpointEntity(ev, ep), key: [...artifact, '|', ...secret].join(','), evidence: [ev.id], title: 'Deployment whose model source is partly set by a source the audit log does not show', time: ev.time,
    summary: `${who ?? 'someone'} deployed ${String(ev.ml?.deployment?.model_uri ?? 'a model')} to ${ep} (${ev.platform}); ${said.join('; and ')}${ev.details?.patch_base_unknown === true ? '; the rest of its env is not in the log (no whole object of it was seen before the patch)' : ''} (a cluster that sets them so by design: trust_mlflow_env_refs)`,
    details: { reasons: [...(artifact.length ? ['artifact_endpoint_unverifiable'] : []), ...(secret.length ? ['mlflow_env_in_secret'] : [])], artifact_env_unverifiable: artifact.length ? artifact : undefined, mlflow_env_secret_unverifiable: secret.length ? secret : undefined, model_uri: ev.ml?.deployment?.model_uri, deployer: who, patch_base_unknown: ev.details?.patch_base_unknown === true || undefined, ...runtimeSourceDetails(ev) },
  });
};
