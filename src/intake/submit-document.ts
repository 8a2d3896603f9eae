import { createHash, randomUUID } from 'node:crypto';
import type { Bundle, OperationOutcome, OperationOutcomeIssue, Organization } from 'fhir/r4';
import type { GatewayClient } from '../auth/clients';
import type { PatientRegistry } from '../directory/registry';
import { resolveRecipient } from '../directory/resolve-recipient';
import { GatewayError, errors, outcome } from '../errors';
import type { ClinicalDocument } from '../mappers/clinical-document';
import { mapFhirClinicalDocument } from '../mappers/clinical-document/from-fhir';
import { mapNativeClinicalDocument } from '../mappers/clinical-document/from-native';
import type { MappingContext } from '../mappers/context';
import { checkDischargeLetterCompleteness, flagIncompleteness } from '../mappers/discharge-letter/completeness';
import { mapFhirDischargeDocument } from '../mappers/discharge-letter/from-fhir';
import { mapNativeDischargeLetter } from '../mappers/discharge-letter/from-native';
import { mapHl7ToDischargeLetter } from '../mappers/hl7v2/to-discharge-letter';
import { hl7NotificationKind, mapHl7ToEncounterNotification, type EncounterNotification, type NotificationKind } from '../mappers/hl7v2/to-encounter-notification';
import { Hl7ParseError, parseHl7Message, type Hl7Message } from '../hl7v2/parse';
import { buildMessageBundle, type MessageEvent } from '../mappers/message/build-message';
import { minimiseDocument } from '../mappers/minimise';
import type { NativeClinicalDocument, NativeDischargeLetter } from '../mappers/native-types';
import { DISCHARGE_SUMMARY_LOINC, SYSTEM } from '../mappers/systems';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { Db } from '../store/db';
import { storeOrReplay } from '../store/store-or-replay';
import { findByIdempotencyKey, insertMessage, type AcceptedResponse } from '../store/messages';
import type { FhirValidator } from '../validation/fhir-validator';
import { assertValidBody } from '../validation/request-schemas';
import { withDatabase } from '../store/unavailable';
import { recordAudit } from '../audit/record-audit';
import { sectorOfOrganization, sectorOfRole, type DisclosureGuard } from '../consent/disclosure-guard';
import { disclosureOf } from '../consent/disclosure-of';

/**
 * The intake pipeline shared by every document route: parse → map (pure) → check → resolve the recipient
 * → build the message → store message + delivery + outbox in one transaction → wake the relay.
 * Nothing is stored until every check has passed, so a rejected request leaves no trace but its answer.
 */
export type DocumentKind = 'discharge-letter' | 'clinical-document' | NotificationKind;
export type InputFormat = 'native' | 'fhir' | 'hl7v2';

export interface IntakeDeps {
  db: Db;
  logger: Logger;
  metrics: Metrics;
  validator: FhirValidator;
  registry?: PatientRegistry | undefined;
  guard: DisclosureGuard;
  /** Called after commit so delivery starts at once, with how many subscription events the message made. */
  onAccepted: (subscriptionEvents?: number) => void;
  validateOutput: 'fhir-input' | 'always' | 'never';
  /** MessageHeader.source.endpoint: where recipients post acknowledgements. */
  gatewayEndpoint: string;
}

export interface SubmitRequest {
  kind: DocumentKind;
  client: GatewayClient;
  format: InputFormat;
  body: unknown;
  idempotencyKey?: string | undefined;
}

export interface SubmitResult {
  response: AcceptedResponse;
  /** True when an earlier answer to the same Idempotency-Key was returned. */
  replayed: boolean;
}

const EVENT: Record<DocumentKind, MessageEvent> = {
  'discharge-letter': 'discharge-letter',
  'clinical-document': 'clinical-document',
  'admission-notification': 'admission-notification',
  'discharge-notification': 'discharge-notification',
};

/** What an HL7 v2 message is, from MSH-9: a discharge letter (MDM, ORU) or an admission/discharge notification. */
export function hl7DocumentKind(body: unknown): DocumentKind {
  const msg = parseHl7(body);
  const notification = hl7NotificationKind(msg);
  if (notification) {
    return notification;
  }
  if (['MDM', 'ORU'].includes(msg.messageType.code)) {
    return 'discharge-letter';
  }
  throw errors.invalid({
    diagnostics: `MSH-9: ${msg.messageType.code}^${msg.messageType.trigger} is not taken (MDM^T02, MDM^T10, ORU^R01, ADT^A01, ADT^A03)`,
    expression: 'MSH-9',
    reason: 'unsupported-message-type',
  });
}

/** Parses HL7 v2 text; a parse failure is a 400 naming the HL7 location. */
export function parseHl7(body: unknown): Hl7Message {
  try {
    return parseHl7Message(typeof body === 'string' ? body : '');
  } catch (e) {
    if (e instanceof Hl7ParseError) {
      throw errors.invalid({ diagnostics: `${e.location}: ${e.message}`, expression: e.location, reason: 'malformed-hl7' });
    }
    throw e;
  }
}

/** MSH-10 is the idempotency key of an HL7 message, scoped by its sending application (MSH-3). */
function hl7IdempotencyKey(req: SubmitRequest): string | undefined {
  if (req.format !== 'hl7v2' || req.idempotencyKey) {
    return req.idempotencyKey;
  }
  const msg = parseHl7(req.body);
  return msg.controlId ? `hl7-${msg.sendingApplication}-${msg.controlId}`.slice(0, 200) : undefined;
}

export async function submitDocument(deps: IntakeDeps, request: SubmitRequest): Promise<SubmitResult> {
  const req = { ...request, idempotencyKey: hl7IdempotencyKey(request) };
  const requestHash = createHash('sha256').update(`${req.kind}\n${req.format}\n${JSON.stringify(req.body)}`).digest('hex');
  if (req.idempotencyKey) {
    const earlier = await replay(deps, req, requestHash);
    if (earlier) {
      return earlier;
    }
  }

  const ctx: MappingContext = { now: new Date(), newId: randomUUID, gatewayEndpoint: deps.gatewayEndpoint };
  let document = mapInput(deps, req, ctx);
  let warnings: OperationOutcomeIssue[] = [];
  if (document.kind === 'discharge-letter') {
    warnings = checkDischargeLetterCompleteness(document);
    if (warnings.length > 0) {
      document = flagIncompleteness(document, warnings);
    }
  }

  const paths =
    req.format === 'native'
      ? { patient: 'patient.cpr', recipient: 'recipient.sor' }
      : req.format === 'hl7v2'
        ? { patient: 'PID-3', recipient: 'recipient' }
        : { patient: 'Patient.identifier', recipient: 'recipient' };
  const recipient = await withDatabase(() =>
    resolveRecipient(
      deps.db,
      'composition' in document
        ? { patientCpr: document.patientCpr, recipientSor: document.recipientSor, generalPractitionerSor: document.generalPractitionerSor, paths }
        : { patientCpr: document.patientCpr, paths },
      deps.registry,
    ),
  );

  const messageId = randomUUID();
  const disclose = await assertDisclosurePermitted(deps, req, document.patientCpr, recipient.organization, messageId);
  if ('composition' in document && sectorOfOrganization(recipient.organization) !== 'health') {
    document = minimiseDocument(document, disclose).document;
  }
  const messageHeaderId = randomUUID();
  const deliveryId = randomUUID();
  const bundle = buildMessageBundle({
    document,
    event: EVENT[req.kind],
    messageHeaderId,
    bundleId: deliveryId,
    sender: { sor: req.client.organization.value },
    receiver: { sor: recipient.sor, name: recipient.name, endpointAddress: recipient.endpoint.address },
    ctx,
  });
  const check = deps.validateOutput === 'always' || (deps.validateOutput === 'fhir-input' && req.format === 'fhir');
  const problems = check ? deps.validator.validate(bundle).filter((i) => i.severity === 'error' || i.severity === 'fatal') : [];
  if (problems.length > 0) {
    throw errors.unprocessable(
      ...problems.slice(0, 20).map((p) => ({
        diagnostics: `the ${req.kind} as converted does not conform to its profile: ${p.diagnostics ?? p.details?.text ?? p.code}`,
        expression: p.expression?.[0],
        reason: 'profile-violation',
      })),
    );
  }

  const response: AcceptedResponse = { id: messageId, status: 'accepted', outcome: outcome(warnings) };
  const stored = await storeOrReplay(
    Boolean(req.idempotencyKey),
    () =>
      withDatabase(() =>
        deps.db.transaction((tx) =>
        insertMessage(tx, {
          id: messageId,
          kind: req.kind,
          senderClientId: req.client.id,
          senderRole: req.client.role,
          senderOrg: req.client.organization,
          patientCpr: document.patientCpr,
          messageHeaderId,
          idempotencyKey: req.idempotencyKey,
          requestHash,
          response,
          deliveries: [
            {
              id: deliveryId,
              recipientSor: recipient.sor,
              recipientName: recipient.name,
              endpointAddress: recipient.endpoint.address,
              connectionType: recipient.endpoint.connectionType,
              bundle,
            },
          ],
        }),
        ),
      ),
    () => replay(deps, req, requestHash),
  );
  if ('replayed' in stored) {
    return stored.replayed;
  }
  deps.metrics.intake.inc({ kind: req.kind, outcome: 'accepted' });
  deps.logger.info({ messageId, kind: req.kind, client: req.client.id, warnings: warnings.length }, 'message accepted');
  deps.onAccepted(stored.stored);
  return { response, replayed: false };
}

/**
 * A dry run for integrators (POST /$convert): the message Bundle an input would become and the checks
 * (schema, FHIR validation against the profiles, completeness, recipient) as an OperationOutcome. Nothing
 * is stored or delivered; a recipient the directory cannot resolve becomes a warning, not a failure.
 */
export async function convertInput(deps: IntakeDeps, req: Omit<SubmitRequest, 'kind' | 'idempotencyKey'>): Promise<{ bundle: Bundle; outcome: OperationOutcome }> {
  const kind = req.format === 'hl7v2' ? hl7DocumentKind(req.body) : guessKind(req);
  const ctx: MappingContext = { now: new Date(), newId: randomUUID, gatewayEndpoint: deps.gatewayEndpoint };
  let document = mapInput(deps, { ...req, kind }, ctx);
  const issues: OperationOutcomeIssue[] = [];
  if (document.kind === 'discharge-letter') {
    const warnings = checkDischargeLetterCompleteness(document);
    issues.push(...warnings);
    if (warnings.length > 0) {
      document = flagIncompleteness(document, warnings);
    }
  }
  let receiver = { sor: 'unknown', name: 'recipient not resolved', endpointAddress: 'urn:unknown' } as { sor: string; name: string | undefined; endpointAddress: string };
  try {
    const r = await resolveRecipient(
      deps.db,
      'composition' in document
        ? { patientCpr: document.patientCpr, recipientSor: document.recipientSor, generalPractitionerSor: document.generalPractitionerSor, paths: { patient: 'patient', recipient: 'recipient' } }
        : { patientCpr: document.patientCpr, paths: { patient: 'patient', recipient: 'recipient' } },
      deps.registry,
    );
    receiver = { sor: r.sor, name: r.name, endpointAddress: r.endpoint.address };
  } catch (e) {
    if (!(e instanceof GatewayError)) {
      throw e;
    }
    issues.push(...e.outcome.issue.map((i) => ({ ...i, severity: 'warning' as const })));
  }
  const bundle = buildMessageBundle({ document, event: EVENT[kind], messageHeaderId: randomUUID(), bundleId: randomUUID(), sender: { sor: req.client.organization.value }, receiver, ctx });
  issues.push(...deps.validator.validate(bundle).filter((i) => i.severity === 'error' || i.severity === 'fatal'));
  return { bundle, outcome: outcome(issues) };
}

function guessKind(req: Pick<SubmitRequest, 'format' | 'body'>): DocumentKind {
  if (req.format === 'native') {
    return typeof req.body === 'object' && req.body !== null && 'admission' in req.body ? 'discharge-letter' : 'clinical-document';
  }
  const codes = JSON.stringify((req.body as { entry?: Array<{ resource?: { type?: unknown } }> } | null)?.entry?.[0]?.resource?.type ?? {});
  return DISCHARGE_SUMMARY_LOINC.some((c) => codes.includes(`"${c}"`)) ? 'discharge-letter' : 'clinical-document';
}

/**
 * Consent at intake: a refusal is a 403 that says which consent is missing and nothing else about the
 * patient, and it is written to the patient's disclosure log like every disclosure.
 */
async function assertDisclosurePermitted(deps: IntakeDeps, req: SubmitRequest, patientCpr: string, recipient: Organization, messageId: string): Promise<string[]> {
  const recipientId = recipient.identifier?.find((i) => i.system && i.value) ?? { system: '', value: '' };
  const target = { system: recipientId.system ?? '', value: recipientId.value ?? '' };
  const decision = await withDatabase(() =>
    deps.guard.decide(deps.db, patientCpr, disclosureOf(req.kind, sectorOfRole(req.client.role), sectorOfOrganization(recipient), target)),
  );
  if (decision.permit) {
    return decision.disclose;
  }
  await withDatabase(() =>
    deps.db.transaction((tx) =>
      recordAudit(tx, {
        action: 'refused',
        messageKind: req.kind,
        messageId,
        sender: { clientId: req.client.id, organization: req.client.organization },
        recipient: { ...target, name: recipient.name },
        patientCpr,
        consent: decision.consent,
        purpose: { system: SYSTEM.actReason, code: 'TREAT', display: 'treatment' },
        dataClasses: [req.kind],
        reason: `refused at intake: ${decision.reason}`,
      }),
    ),
  );
  deps.metrics.intake.inc({ kind: req.kind, outcome: 'refused' });
  throw errors.forbidden(
    decision.consent ? `consent: the patient has denied this disclosure to ${target.value}` : `consent: ${decision.reason}`,
    decision.consent ? 'consent-denied' : 'consent-missing',
  );
}

function mapInput(deps: IntakeDeps, req: SubmitRequest, ctx: MappingContext): ClinicalDocument | EncounterNotification {
  if (req.format === 'hl7v2') {
    if (req.kind === 'admission-notification' || req.kind === 'discharge-notification') {
      return mapHl7ToEncounterNotification(parseHl7(req.body), ctx);
    }
    if (req.kind !== 'discharge-letter') {
      throw errors.unsupportedMediaType('Content-Type: HL7 v2 documents are taken on POST /discharge-letters and POST /hl7v2');
    }
    const letter = mapHl7ToDischargeLetter(parseHl7(req.body));
    assertValidBody('NativeDischargeLetter', letter);
    return mapNativeDischargeLetter(letter, ctx);
  }
  if (req.format === 'native') {
    if (req.kind === 'discharge-letter') {
      assertValidBody('NativeDischargeLetter', req.body);
      return mapNativeDischargeLetter(req.body as NativeDischargeLetter, ctx);
    }
    assertValidBody('NativeClinicalDocument', req.body);
    return mapNativeClinicalDocument(req.body as NativeClinicalDocument, ctx);
  }
  const base = deps.validator.validate(req.body).filter((i) => i.severity === 'error' || i.severity === 'fatal');
  if (base.length > 0) {
    throw errors.invalid(...base.slice(0, 20).map((p) => ({ diagnostics: p.diagnostics ?? p.details?.text ?? 'invalid', expression: p.expression?.[0] })));
  }
  if (req.kind !== 'discharge-letter' && req.kind !== 'clinical-document') {
    throw errors.unsupportedMediaType('Content-Type: admission and discharge notifications are taken as HL7 v2 ADT');
  }
  return req.kind === 'discharge-letter' ? mapFhirDischargeDocument(req.body, ctx) : mapFhirClinicalDocument(req.body, ctx);
}

async function replay(deps: IntakeDeps, req: SubmitRequest, requestHash: string): Promise<SubmitResult | undefined> {
  const key = req.idempotencyKey ?? '';
  const earlier = await withDatabase(() => findByIdempotencyKey(deps.db, req.client.id, key));
  if (!earlier) {
    return undefined;
  }
  if (earlier.request_hash !== requestHash) {
    deps.metrics.intake.inc({ kind: req.kind, outcome: 'conflict' });
    throw errors.conflict(`Idempotency-Key "${key}" was already used with a different body (message ${earlier.response.id})`, 'idempotency-key-reused');
  }
  deps.metrics.intake.inc({ kind: req.kind, outcome: 'duplicate' });
  return { response: earlier.response, replayed: true };
}

