import type { ConnectorPlugin } from '../core/connector.js';
import { coreConnector } from './core/index.js';
import { kubeflowConnector } from './kubeflow/index.js';
import { mlflowConnector } from './mlflow/index.js';
import { sagemakerConnector } from './sagemaker/index.js';
import { vertexConnector } from './vertex/index.js';

/**
 * Every connector, in `--platform auto` detection order (most specific
 * shapes first; `core` last since a normalized event is the most generic).
 */
export const connectorPlugins: ConnectorPlugin<any>[] = [
  mlflowConnector,
  sagemakerConnector,
  vertexConnector,
  kubeflowConnector,
  coreConnector,
];

export function connectorByName(name: string): ConnectorPlugin<any> | undefined {
  return connectorPlugins.find((p) => p.name === name);
}
