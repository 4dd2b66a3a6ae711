import type { CliCommand } from '../../core/connector.js';
import { attestCliCommand } from '../attest.js';
import { setupElastic } from '../sinks/elastic/command.js';

/**
 * Commands contributed outside connectors: sinks (`setup elastic`) and rules
 * (`attest`, `rules tune`). Each issue appends its own here.
 */
export const extraCommands: CliCommand[] = [setupElastic, attestCliCommand];
