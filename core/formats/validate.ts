import type { z } from 'zod';
import { HecAlertEnvelope, HecEventEnvelope } from './cim/validate.js';
import { EcsDocument } from './ecs/validate.js';
import type { Format } from './index.js';
import { OcsfApiActivity, OcsfDetectionFinding } from './ocsf/validate.js';
import { UdmEvent } from './udm/validate.js';
import { Alert, NormalizedEvent } from '../schema/index.js';

export { HecAlertEnvelope, HecAuthenticationEnvelope, HecChangeEnvelope, HecEventEnvelope, CimAlert, CimAuthentication, CimChange } from './cim/validate.js';
export { EcsDocument } from './ecs/validate.js';
export { OcsfApiActivity, OcsfDetectionFinding } from './ocsf/validate.js';
export { UdmEvent, UDM_EVENT_TYPES } from './udm/validate.js';

/**
 * The validator of each output schema, for events and for alerts: what a
 * formatter's output must satisfy (tests, strict sink fakes, self-checks).
 *
 * @example
 * outputSchemas.udm.event.parse(formatter('udm').event(ev));
 */
export const outputSchemas: Record<Format, { event: z.ZodType; alert: z.ZodType }> = {
  core: { event: NormalizedEvent, alert: Alert },
  ocsf: { event: OcsfApiActivity, alert: OcsfDetectionFinding },
  ecs: { event: EcsDocument, alert: EcsDocument },
  udm: { event: UdmEvent, alert: UdmEvent },
  cim: { event: HecEventEnvelope, alert: HecAlertEnvelope },
};
