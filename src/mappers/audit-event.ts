import type { AuditEvent, AuditEventEntity } from 'fhir/r4';
import { escapeXml } from '../errors';
import { SYSTEM } from './systems';

/**
 * The disclosure log entry: who sent what kind of data about whom, to whom, why, under which consent, and
 * how it ended. One AuditEvent per delivery outcome and per refusal; the patient's disclosure view reads these.
 */
export interface DisclosureAuditInput {
  id: string;
  recorded: Date;
  /** What happened to the disclosure. */
  action:
    | 'delivered'
    | 'delivery-failed'
    | 'refused'
    | 'blocked'
    | 'dead-letter'
    | 'replayed'
    | 'discarded'
    | 'converted'
    | 'read';
  messageKind: string;
  messageId: string;
  messageHeaderId?: string;
  sender: { clientId: string; organization: { system: string; value: string } };
  recipient?: { system: string; value: string; name?: string | undefined };
  patientCpr?: string | undefined;
  /** v3 ActReason code: TREAT for care, a gateway code for municipal casework. */
  purpose?: { system: string; code: string; display?: string };
  /** Reference to the Consent that allowed or denied it, when one decided. */
  consent?: string | undefined;
  /** Kinds of data disclosed (document types, resource types). */
  dataClasses?: string[];
  /** A short reason without clinical content. */
  reason?: string | undefined;
  /** The operator (API client) who made it happen, for actions an admin takes (replay, discard). */
  operator?: { clientId: string } | undefined;
}

const OUTCOME: Record<DisclosureAuditInput['action'], AuditEvent['outcome']> = {
  delivered: '0',
  replayed: '0',
  'delivery-failed': '8',
  'dead-letter': '8',
  refused: '4',
  blocked: '4',
  discarded: '4',
  // A $convert dry run: nothing was sent, but the sender was shown who would receive it.
  converted: '0',
  // A recipient fetched a Bundle (GET /fhir/Bundle/{id}): disclosed again, successfully.
  read: '0',
};

export const AUDIT_ACTION_SYSTEM = SYSTEM.gatewayTags.replace('sektorbro-tags', 'sektorbro-audit-actions');

export function buildDisclosureAuditEvent(input: DisclosureAuditInput): AuditEvent {
  const entity: AuditEventEntity[] = [];
  if (input.patientCpr) {
    entity.push({
      what: { identifier: { system: SYSTEM.cpr, value: input.patientCpr } },
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '1', display: 'Person' },
      role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '1', display: 'Patient' },
    });
  }
  entity.push({
    what: { identifier: { system: SYSTEM.messageId, value: input.messageHeaderId ?? input.messageId } },
    type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2', display: 'System Object' },
    role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '4', display: 'Domain Resource' },
    name: input.messageKind,
    ...(input.dataClasses?.length
      ? { detail: [{ type: 'data-classes', valueString: input.dataClasses.join(',') }] }
      : {}),
  });
  const recipientText = input.recipient
    ? `${input.recipient.name ?? ''} (${input.recipient.value})`.trim()
    : 'no recipient';
  const summary = `${input.messageKind} from ${input.sender.clientId} to ${recipientText}: ${input.action}${input.reason ? ` (${input.reason})` : ''}`;
  return {
    resourceType: 'AuditEvent',
    id: input.id,
    text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${escapeXml(summary)}</div>` },
    type: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110106', display: 'Export' },
    subtype: [{ system: AUDIT_ACTION_SYSTEM, code: input.action }],
    action: 'E',
    recorded: input.recorded.toISOString(),
    outcome: OUTCOME[input.action],
    ...(input.reason ? { outcomeDesc: input.reason } : {}),
    ...(input.purpose ? { purposeOfEvent: [{ coding: [input.purpose] }] } : {}),
    agent: [
      {
        type: {
          coding: [
            {
              system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType',
              code: 'AUT',
              display: 'author (originator)',
            },
          ],
        },
        who: { identifier: input.sender.organization, display: input.sender.clientId },
        requestor: !input.operator,
      },
      ...(input.operator
        ? [
            {
              type: {
                coding: [
                  {
                    system: 'http://terminology.hl7.org/CodeSystem/extra-security-role-type',
                    code: 'humanuser',
                    display: 'human user',
                  },
                ],
              },
              who: {
                identifier: { system: SYSTEM.apiClient, value: input.operator.clientId },
                display: input.operator.clientId,
              },
              requestor: true,
            },
          ]
        : []),
      ...(input.recipient
        ? [
            {
              type: {
                coding: [
                  {
                    system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType',
                    code: 'IRCP',
                    display: 'information recipient',
                  },
                ],
              },
              who: {
                identifier: { system: input.recipient.system, value: input.recipient.value },
                ...(input.recipient.name ? { display: input.recipient.name } : {}),
              },
              requestor: false,
            },
          ]
        : []),
    ],
    source: {
      observer: { display: 'Sektorbro gateway' },
      type: [
        {
          system: 'http://terminology.hl7.org/CodeSystem/security-source-type',
          code: '4',
          display: 'Application Server',
        },
      ],
    },
    entity: [
      ...entity,
      ...(input.consent
        ? [
            {
              what: { reference: input.consent },
              type: { system: 'http://hl7.org/fhir/resource-types', code: 'Consent' },
            },
          ]
        : []),
    ],
  };
}
