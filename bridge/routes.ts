import type { Hono } from 'hono';
import type { ConnectorDeps } from '../core/connector.js';
import { mountAttest } from './attest.js';

/**
 * HTTP routes that belong to no connector (e.g. `POST /v1/attest` from the
 * rules). Each gets the same deps a connector does, with the rules config.
 */
export type RouteMounter = (app: Hono, deps: ConnectorDeps<unknown>) => void;

export const extraRoutes: RouteMounter[] = [mountAttest];
