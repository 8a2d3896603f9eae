import type { Bundle, MessageHeader, OperationOutcome } from 'fhir/r4';
import type { MappingContext } from '../context';
import { narrative } from '../narrative';
import { entry } from '../native-parts';
import { SYSTEM } from '../systems';
import { MEDCOM } from './build-message';

/**
 * MedCom-style acknowledgements: a message Bundle whose MessageHeader.response names the acknowledged
 * MessageHeader.id and says ok, transient-error or fatal-error (with an OperationOutcome when not ok).
 */
export type AckCode = 'ok' | 'transient-error' | 'fatal-error';

export interface Acknowledgement {
  respondsTo: string;
  code: AckCode;
  diagnostics?: string;
  /** A MedCom acknowledgement's error code (MSG_*, OperationOutcome.issue.details.coding), kept for tracking. */
  errorCode?: string;
}

export function parseAcknowledgement(body: unknown): Acknowledgement | undefined {
  const bundle = body as Partial<Bundle> | null;
  if (!bundle || typeof bundle !== 'object' || bundle.resourceType !== 'Bundle' || bundle.type !== 'message') {
    return undefined;
  }
  const header = bundle.entry?.[0]?.resource as MessageHeader | undefined;
  const response = header?.resourceType === 'MessageHeader' ? header.response : undefined;
  if (!response?.identifier || !['ok', 'transient-error', 'fatal-error'].includes(response.code)) {
    return undefined;
  }
  const detailsRef = response.details?.reference;
  const outcome = bundle.entry?.find(
    (e) =>
      e.resource?.resourceType === 'OperationOutcome' &&
      (!detailsRef || e.fullUrl === detailsRef || `OperationOutcome/${e.resource.id ?? ''}` === detailsRef),
  )?.resource as OperationOutcome | undefined;
  const issues = Array.isArray(outcome?.issue) ? outcome.issue : [];
  const diagnostics = issues.map((i) => i.diagnostics ?? i.details?.text ?? i.code).join('; ');
  const errorCode = issues.flatMap((i) => i.details?.coding ?? []).find((c) => c.code)?.code;
  return {
    respondsTo: response.identifier,
    code: response.code,
    ...(diagnostics ? { diagnostics: diagnostics.slice(0, 500) } : {}),
    ...(errorCode ? { errorCode: errorCode.slice(0, 100) } : {}),
  };
}

/** What a receiver answers to a message: used by the demo GP system and by tests. */
export function buildAcknowledgement(
  message: Bundle,
  code: AckCode,
  ctx: MappingContext,
  diagnostics?: string,
): Bundle {
  const acked = message.entry?.[0]?.resource as MessageHeader | undefined;
  const outcome =
    code === 'ok'
      ? undefined
      : entry<OperationOutcome>({
          resourceType: 'OperationOutcome',
          id: ctx.newId(),
          text: narrative(diagnostics ?? code),
          issue: [
            {
              severity: 'error',
              code: code === 'fatal-error' ? 'invalid' : 'transient',
              diagnostics: diagnostics ?? code,
            },
          ],
        });
  const header = entry<MessageHeader>({
    resourceType: 'MessageHeader',
    id: ctx.newId(),
    text: narrative(`Kvittering (${code}) for meddelelse ${acked?.id ?? ''}`),
    eventCoding: { system: SYSTEM.messageEvents, code: 'acknowledgement', display: 'Acknowledgement' },
    destination: [{ endpoint: acked?.source?.endpoint ?? 'unknown' }],
    source: { endpoint: ctx.gatewayEndpoint },
    response: {
      identifier: acked?.id ?? 'unknown',
      code,
      ...(outcome ? { details: { reference: outcome.fullUrl } } : {}),
    },
  });
  const provenance = entry({
    resourceType: 'Provenance' as const,
    id: ctx.newId(),
    text: narrative('Kvittering (acknowledgement)'),
    target: [{ reference: header.fullUrl }],
    recorded: ctx.now.toISOString(),
    activity: { coding: [{ system: MEDCOM.activityCodes, code: 'new-message' }] },
    agent: [{ who: { display: 'receiver' } }],
  });
  return {
    resourceType: 'Bundle',
    id: ctx.newId(),
    type: 'message',
    timestamp: ctx.now.toISOString(),
    entry: [header, ...(outcome ? [outcome] : []), provenance],
  };
}
