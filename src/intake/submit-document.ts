import { randomUUID } from 'node:crypto';
import type { Bundle, OperationOutcome, OperationOutcomeIssue, Organization } from 'fhir/r4';
import type { GatewayClient } from '../auth/clients';
import type { PatientRegistry } from '../directory/registry';
import { resolveMunicipalCareRecipients, resolveRecipient, type Recipient } from '../directory/resolve-recipient';
import { GatewayError, errors, issue, outcome, type IssueInput } from '../errors';
import type { ClinicalDocument } from '../mappers/clinical-document';
import { mapFhirClinicalDocument } from '../mappers/clinical-document/from-fhir';
import { mapNativeClinicalDocument } from '../mappers/clinical-document/from-native';
import type { MappingContext } from '../mappers/context';
import { checkDischargeLetterCompleteness, flagIncompleteness } from '../mappers/discharge-letter/completeness';
import { mapFhirDischargeDocument } from '../mappers/discharge-letter/from-fhir';
import { mapNativeDischargeLetter } from '../mappers/discharge-letter/from-native';
import { mapHl7ToDischargeLetter } from '../mappers/hl7v2/to-discharge-letter';
import {
  mapHl7ToEncounterNotification,
  type EncounterNotification,
  type NotificationKind,
} from '../mappers/hl7v2/to-encounter-notification';
import { Hl7ParseError, parseHl7Message, type Hl7Message } from '../hl7v2/parse';
import type { Hl7Charset } from '../hl7v2/charset';
import type { Hl7SenderProfile } from '../hl7v2/sender-profile';
import { processingIdIssue } from '../mappers/hl7v2/processing-id';
import { UnmappableInput } from '../mappers/unmappable-input';
import { buildMessageBundle } from '../mappers/message/build-message';
import { kindOfHl7, MESSAGE_KINDS } from '../messages/message-kinds';
import { minimiseDocument } from '../mappers/minimise';
import type { NativeClinicalDocument, NativeDischargeLetter } from '../mappers/native-types';
import { DISCHARGE_SUMMARY_LOINC, SYSTEM } from '../mappers/systems';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { Db, Queryable } from '../store/db';
import { replayEarlier, requestHash, storeOrReplay } from '../store/store-or-replay';
import { findByIdempotencyKey, insertMessage, type AcceptedResponse } from '../store/messages';
import type { FhirValidator } from '../validation/fhir-validator';
import { assertValidBody } from '../validation/request-schemas';
import { recordAudit } from '../audit/record-audit';
import { sectorOfOrganization, sectorOfRole, type DisclosureGuard } from '../consent/disclosure-guard';
import { storeCareManagerCopies } from '../care-team/care-manager-copies';
import { disclosureOf } from '../consent/disclosure-of';
import { buildForRecipient } from './medcom-message';
import type { LookupCache } from '../cache/lookup-cache';
import { refuseDisclosure } from '../consent/refuse-disclosure';
import { assertValidFhirInput } from '../validation/valid-fhir-input';

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
  /** HL7_DEFAULT_CHARSET: the character set of HL7 v2 messages without a usable MSH-18 whose sender has none. */
  hl7DefaultCharset?: string | undefined;
  /** Directory and consent lookups cached across letters, fenced per letter (src/cache/lookup-cache.ts). */
  lookups?: LookupCache | undefined;
}

export interface SubmitRequest {
  kind: DocumentKind;
  client: GatewayClient;
  format: InputFormat;
  body: unknown;
  idempotencyKey?: string | undefined;
  /** HL7 v2: the sender's default character set and department (see src/hl7v2/sender-profile.ts). */
  hl7?: Hl7SenderProfile | undefined;
  /** HL7 v2: the message as the edge (HTTP route, MLLP listener) parsed it from `body`, so it is parsed once. */
  hl7Message?: Hl7Message | undefined;
}

export interface SubmitResult {
  response: AcceptedResponse;
  /** True when an earlier answer to the same Idempotency-Key was returned. */
  replayed: boolean;
}

const DOCUMENT_KINDS: readonly DocumentKind[] = [
  'discharge-letter',
  'clinical-document',
  'admission-notification',
  'discharge-notification',
];

function eventOf(kind: DocumentKind) {
  return MESSAGE_KINDS[kind].event.code;
}

/** What an HL7 v2 message is, from MSH-9: a discharge letter (MDM, ORU) or an admission/discharge notification. */
export function hl7DocumentKind(msg: Hl7Message): DocumentKind {
  const kind = kindOfHl7(msg.messageType.code, msg.messageType.trigger);
  const document = DOCUMENT_KINDS.find((k) => k === kind);
  if (document) {
    return document;
  }
  throw errors.invalid({
    diagnostics: `MSH-9: ${msg.messageType.code}^${msg.messageType.trigger} is not taken (MDM^T02, MDM^T10, ORU^R01, ADT^A01, ADT^A03)`,
    expression: 'MSH-9',
    reason: 'unsupported-message-type',
  });
}

/** Parses HL7 v2 text (`\\Xhh\\` escapes in MSH-18's set, else `charset`); a parse failure is a 400 naming the HL7 location. */
export function parseHl7(body: unknown, charset?: Hl7Charset): Hl7Message {
  try {
    return parseHl7Message(typeof body === 'string' ? body : '', { charset });
  } catch (e) {
    if (e instanceof Hl7ParseError) {
      throw hl7Refusal(e);
    }
    throw e;
  }
}

/** An Hl7ParseError as the 400 the sender gets: naming the HL7 location, with the reason code it carries. */
export function hl7Refusal(e: Hl7ParseError): GatewayError {
  return errors.invalid({
    diagnostics: e.message.startsWith(e.location) ? e.message : `${e.location}: ${e.message}`,
    expression: e.location,
    reason: e.reason,
  });
}

/** The HL7 v2 message of a request: as the edge parsed it, else parsed here (once per request). */
function hl7MessageOf(req: Omit<SubmitRequest, 'kind' | 'idempotencyKey'>): Hl7Message | undefined {
  if (req.format !== 'hl7v2') {
    return undefined;
  }
  return req.hl7Message ?? parseHl7(req.body, req.hl7?.charset);
}

/** MSH-10 is the idempotency key of an HL7 message, scoped by its sending application (MSH-3). */
function hl7IdempotencyKey(req: SubmitRequest, msg: Hl7Message | undefined): string | undefined {
  if (!msg || req.idempotencyKey) {
    return req.idempotencyKey;
  }
  return msg.controlId ? `hl7-${msg.sendingApplication}-${msg.controlId}`.slice(0, 200) : undefined;
}

export async function submitDocument(deps: IntakeDeps, request: SubmitRequest): Promise<SubmitResult> {
  const hl7Message = hl7MessageOf(request);
  // A well-formed message from a test system: readable, but not to be delivered (422, MLLP AR).
  const notProduction = hl7Message && processingIdIssue(hl7Message);
  if (notProduction) {
    throw errors.unprocessable(notProduction);
  }
  const req = { ...request, hl7Message, idempotencyKey: hl7IdempotencyKey(request, hl7Message) };
  const hash = requestHash([req.kind, req.format], req.body);
  const earlier = await replay(deps, req, hash);
  if (earlier) {
    return earlier;
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
  // One fence for the whole decision: the recipient, consent and message building below see every directory
  // and consent change committed before it, through whichever process it was made.
  const lookups = deps.lookups;
  const view = lookups ? await lookups.fresh(deps.db) : deps.db;
  const recipient = await resolveRecipient(
    view,
    'composition' in document
      ? {
          patientCpr: document.patientCpr,
          recipientSor: document.recipientSor,
          generalPractitionerSor: document.generalPractitionerSor,
          paths,
        }
      : { patientCpr: document.patientCpr, paths },
    deps.registry,
  );

  const messageId = randomUUID();
  const disclose = await assertDisclosurePermitted(
    deps,
    req,
    document.patientCpr,
    recipient.organization,
    messageId,
    view,
  );
  const unminimised = document;
  if ('composition' in document && sectorOfOrganization(recipient.organization) !== 'health') {
    document = minimiseDocument(document, disclose).document;
  }
  // An admission or discharge notification also goes to the municipal care unit the patient receives care from
  // (MedCom HospitalNotification), on the same legal basis as to the GP; each is a disclosure decided and audited.
  const careUnits =
    'composition' in document
      ? []
      : await resolveMunicipalCareRecipients(view, document.patientCpr, ctx.now, paths.patient);
  for (const unit of careUnits) {
    await assertDisclosurePermitted(deps, req, document.patientCpr, unit.organization, messageId, view);
  }
  const messageHeaderId = randomUUID();
  const built = document;
  const buildFor = async (to: Recipient) => {
    const deliveryId = randomUUID();
    const { bundle } = await buildForRecipient(view, {
      document: built,
      ownEvent: eventOf(req.kind),
      recipient: to,
      senderSor: req.client.organization.value,
      messageHeaderId,
      bundleId: deliveryId,
      ctx,
      ownBundle: () =>
        buildMessageBundle({
          document: built,
          event: eventOf(req.kind),
          messageHeaderId,
          bundleId: deliveryId,
          sender: { sor: req.client.organization.value },
          receiver: { sor: to.sor, name: to.name, endpointAddress: to.endpoint.address },
          ctx,
        }),
    });
    return { to, deliveryId, bundle };
  };
  const outgoing = [await buildFor(recipient)];
  for (const unit of careUnits) {
    outgoing.push(await buildFor(unit));
  }
  const check = deps.validateOutput === 'always' || (deps.validateOutput === 'fhir-input' && req.format === 'fhir');
  const problems = check
    ? outgoing.flatMap(({ bundle }) =>
        deps.validator.validate(bundle).filter((i) => i.severity === 'error' || i.severity === 'fatal'),
      )
    : [];
  if (problems.length > 0) {
    throw errors.unprocessable(
      ...problems.slice(0, 20).map(
        (p): IssueInput => ({
          diagnostics: `the ${req.kind} as converted does not conform to its profile: ${p.diagnostics ?? p.details?.text ?? p.code}`,
          expression: p.expression?.[0],
          reason: 'profile-violation',
        }),
      ),
    );
  }

  const response: AcceptedResponse = { id: messageId, status: 'accepted', outcome: outcome(warnings) };
  const stored = await storeOrReplay(
    Boolean(req.idempotencyKey),
    () =>
      deps.db.transaction(async (tx) => {
        const events = await insertMessage(tx, {
          id: messageId,
          kind: req.kind,
          senderClientId: req.client.id,
          senderRole: req.client.role,
          senderSector: sectorOfRole(req.client.role),
          senderOrg: req.client.organization,
          patientCpr: document.patientCpr,
          messageHeaderId,
          idempotencyKey: req.idempotencyKey,
          requestHash: hash,
          response,
          deliveries: outgoing.map(({ to, deliveryId, bundle }) => ({
            id: deliveryId,
            recipientSystem: recipientSystemOf(to),
            recipientSor: to.sor,
            recipientName: to.name,
            endpointAddress: to.endpoint.address,
            connectionType: to.endpoint.connectionType,
            bundle,
          })),
        });
        if ('composition' in unminimised && (req.kind === 'discharge-letter' || req.kind === 'clinical-document')) {
          // The care manager of a care team in force gets a copy, as consent allows (issue 18).
          await storeCareManagerCopies(tx, deps.guard, ctx, {
            kind: req.kind,
            client: req.client,
            patientCpr: unminimised.patientCpr,
            document: unminimised,
            primary: { system: SYSTEM.sor, value: recipient.sor },
          });
        }
        return events;
      }),
    () => replay(deps, req, hash),
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
 * A dry run for senders (POST /$convert, roles hospital and gp): the message Bundle an input would become and
 * the checks (schema, FHIR validation against the profiles, completeness, recipient, consent) as an
 * OperationOutcome. Nothing is stored or delivered. It is no directory oracle: the recipient (SOR, name,
 * endpoint) is shown only when the document could really go to it, i.e. the directory resolves it and the
 * patient's consent permits the disclosure; otherwise the Bundle names no recipient and the outcome says only
 * that none could be resolved, the same words whether the CPR number is unknown, has no listed GP, or the GP
 * has no endpoint. Every dry run is an AuditEvent (action `converted`, or `refused` when consent would refuse).
 */
export async function convertInput(
  deps: IntakeDeps,
  req: Omit<SubmitRequest, 'kind' | 'idempotencyKey'>,
): Promise<{ bundle: Bundle; outcome: OperationOutcome }> {
  const hl7Message = hl7MessageOf(req);
  const kind = hl7Message ? hl7DocumentKind(hl7Message) : guessKind(req);
  const ctx: MappingContext = { now: new Date(), newId: randomUUID, gatewayEndpoint: deps.gatewayEndpoint };
  let document = mapInput(deps, { ...req, kind, hl7Message }, ctx);
  const issues: OperationOutcomeIssue[] = [];
  if (document.kind === 'discharge-letter') {
    const warnings = checkDischargeLetterCompleteness(document);
    issues.push(...warnings);
    if (warnings.length > 0) {
      document = flagIncompleteness(document, warnings);
    }
  }
  let receiver = { sor: 'unknown', name: 'recipient not resolved', endpointAddress: 'urn:unknown' } as {
    sor: string;
    name: string | undefined;
    endpointAddress: string;
  };
  const namedRecipient = 'composition' in document ? document.recipientSor : undefined;
  const paths = { patient: 'patient', recipient: 'recipient' };
  const messageId = randomUUID();
  const audit = (a: {
    action: 'converted' | 'refused';
    recipient?: { system: string; value: string; name?: string | undefined };
    reason: string;
    consent?: string | undefined;
  }) =>
    deps.db.transaction((tx) =>
      recordAudit(tx, {
        action: a.action,
        messageKind: kind,
        messageId,
        sender: { clientId: req.client.id, organization: req.client.organization },
        ...(a.recipient ? { recipient: a.recipient } : {}),
        patientCpr: document.patientCpr,
        consent: a.consent,
        purpose: { system: SYSTEM.actReason, code: 'TREAT', display: 'treatment' },
        dataClasses: [MESSAGE_KINDS[kind].dataClass],
        reason: a.reason,
      }),
    );
  let resolved: Awaited<ReturnType<typeof resolveRecipient>> | undefined;
  /** The recipient the dry run may name: resolved, and the patient's consent permits the disclosure. */
  let shown: Recipient | undefined;
  try {
    resolved = await resolveRecipient(
      deps.db,
      'composition' in document
        ? {
            patientCpr: document.patientCpr,
            recipientSor: document.recipientSor,
            generalPractitionerSor: document.generalPractitionerSor,
            paths,
          }
        : { patientCpr: document.patientCpr, paths },
      deps.registry,
    );
  } catch (e) {
    if (!(e instanceof GatewayError) || e.status !== 422) {
      throw e;
    }
    const first = e.outcome.issue[0];
    // An unknown SOR the sender named itself says nothing about the patient; every other dead end (unknown
    // CPR number, no listed GP, a GP without an endpoint) is answered alike, naming nobody.
    issues.push(
      namedRecipient && first?.details?.coding?.[0]?.code === 'unknown-recipient'
        ? { ...first, severity: 'warning' }
        : issue({
            severity: 'warning',
            code: 'not-found',
            diagnostics: `${paths.patient}: no recipient can be resolved for this patient; a real submission would be refused`,
            expression: paths.patient,
            reason: 'recipient-not-resolved',
          }),
    );
  }
  if (resolved) {
    const target = resolved.organization.identifier?.find((i) => i.system && i.value);
    const party = { system: target?.system ?? '', value: target?.value ?? '', name: resolved.name };
    const decision = await deps.guard.decide(
      deps.db,
      document.patientCpr,
      disclosureOf(kind, sectorOfRole(req.client.role), sectorOfOrganization(resolved.organization), party),
    );
    if (decision.permit) {
      shown = resolved;
      receiver = { sor: resolved.sor, name: resolved.name, endpointAddress: resolved.endpoint.address };
      await audit({ action: 'converted', recipient: party, reason: 'dry run ($convert): nothing stored or sent' });
    } else {
      await audit({
        action: 'refused',
        recipient: party,
        consent: decision.consent,
        reason: `dry run ($convert) refused: ${decision.reason}`,
      });
      issues.push(
        issue({
          severity: 'warning',
          code: 'forbidden',
          diagnostics: `${paths.patient}: the patient's consent would refuse this disclosure; a real submission would be answered 403`,
          expression: paths.patient,
          reason: decision.consent ? 'consent-denied' : 'consent-missing',
        }),
      );
    }
  } else {
    await audit({ action: 'converted', reason: 'dry run ($convert): no recipient resolved; nothing stored or sent' });
  }
  const messageHeaderId = randomUUID();
  const bundleId = randomUUID();
  const built = document;
  const ownBundle = () =>
    buildMessageBundle({
      document: built,
      event: eventOf(kind),
      messageHeaderId,
      bundleId,
      sender: { sor: req.client.organization.value },
      receiver,
      ctx,
    });
  let bundle: Bundle | undefined;
  // The preview is what the recipient would get: the dialect its endpoint takes (MedCom when its payloadType
  // lists the MedCom event), built only once the recipient may be shown; what a real send would refuse for
  // that dialect (no GLN, no patient name...) is a warning, and the gateway's own message is shown instead.
  if (shown) {
    const to = shown;
    try {
      bundle = (
        await buildForRecipient(deps.db, {
          document: built,
          ownEvent: eventOf(kind),
          recipient: to,
          senderSor: req.client.organization.value,
          messageHeaderId,
          bundleId,
          ctx,
          ownBundle,
        })
      ).bundle;
    } catch (e) {
      if (!(e instanceof GatewayError) || e.status !== 422) {
        throw e;
      }
      issues.push(
        ...e.outcome.issue.map((i) => ({
          ...i,
          severity: 'warning' as const,
          diagnostics: `${i.diagnostics ?? ''}; a real submission would be refused (422)`,
        })),
      );
    }
  }
  bundle ??= ownBundle();
  issues.push(...deps.validator.validate(bundle).filter((i) => i.severity === 'error' || i.severity === 'fatal'));
  return { bundle, outcome: outcome(issues) };
}

/** The identifier system a delivery's recipient is tracked by: SOR when the organisation has one (Recipient.sor). */
function recipientSystemOf(to: Recipient): string {
  const ids = to.organization.identifier ?? [];
  return ids.some((i) => i.system === SYSTEM.sor && i.value === to.sor)
    ? SYSTEM.sor
    : (ids.find((i) => i.value === to.sor)?.system ?? SYSTEM.sor);
}

function guessKind(req: Pick<SubmitRequest, 'format' | 'body'>): DocumentKind {
  if (req.format === 'native') {
    return typeof req.body === 'object' && req.body !== null && 'admission' in req.body
      ? 'discharge-letter'
      : 'clinical-document';
  }
  const codes = JSON.stringify(
    (req.body as { entry?: Array<{ resource?: { type?: unknown } }> } | null)?.entry?.[0]?.resource?.type ?? {},
  );
  return DISCHARGE_SUMMARY_LOINC.some((c) => codes.includes(`"${c}"`)) ? 'discharge-letter' : 'clinical-document';
}

/**
 * Consent at intake: a refusal is a 403 that says which consent is missing and nothing else about the
 * patient, and it is written to the patient's disclosure log like every disclosure.
 */
async function assertDisclosurePermitted(
  deps: IntakeDeps,
  req: SubmitRequest,
  patientCpr: string,
  recipient: Organization,
  messageId: string,
  /** The letter's fenced view (cached consents), else the database. */
  view: Queryable = deps.db,
): Promise<string[]> {
  const recipientId = recipient.identifier?.find((i) => i.system && i.value) ?? { system: '', value: '' };
  const target = { system: recipientId.system ?? '', value: recipientId.value ?? '' };
  const decision = await deps.guard.decide(
    view,
    patientCpr,
    disclosureOf(req.kind, sectorOfRole(req.client.role), sectorOfOrganization(recipient), target),
  );
  if (decision.permit) {
    return decision.disclose;
  }
  const refusal = await refuseDisclosure(
    deps.db,
    {
      messageKind: req.kind,
      messageId,
      sender: { clientId: req.client.id, organization: req.client.organization },
      recipient: { ...target, name: recipient.name },
      patientCpr,
      purpose: { system: SYSTEM.actReason, code: 'TREAT', display: 'treatment' },
      dataClasses: [MESSAGE_KINDS[req.kind].dataClass],
      reason: `refused at intake: ${decision.reason}`,
    },
    decision,
    decision.consent
      ? `consent: the patient has denied this disclosure to ${target.value}`
      : `consent: ${decision.reason}`,
  );
  deps.metrics.intake.inc({ kind: req.kind, outcome: 'refused' });
  throw refusal;
}

/**
 * The input as the gateway's document. A mapper says what is wrong with input it cannot map (UnmappableInput);
 * here that is a 400: the body is not what its format says (an HL7 field, a FHIR element it names).
 */
function mapInput(deps: IntakeDeps, req: SubmitRequest, ctx: MappingContext): ClinicalDocument | EncounterNotification {
  try {
    return mapInputOrThrow(deps, req, ctx);
  } catch (e) {
    throw e instanceof UnmappableInput ? errors.invalid(...e.issues) : e;
  }
}

function mapInputOrThrow(
  deps: IntakeDeps,
  req: SubmitRequest,
  ctx: MappingContext,
): ClinicalDocument | EncounterNotification {
  if (req.format === 'hl7v2') {
    const msg = req.hl7Message ?? parseHl7(req.body, req.hl7?.charset);
    const sender = { departmentSor: req.hl7?.departmentSor };
    if (req.kind === 'admission-notification' || req.kind === 'discharge-notification') {
      return mapHl7ToEncounterNotification(msg, ctx, sender);
    }
    if (req.kind !== 'discharge-letter') {
      throw errors.unsupportedMediaType({
        diagnostics: 'Content-Type: HL7 v2 documents are taken on POST /discharge-letters and POST /hl7v2',
      });
    }
    const letter = mapHl7ToDischargeLetter(msg, sender);
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
  assertValidFhirInput(deps.validator, req.body);
  if (req.kind !== 'discharge-letter' && req.kind !== 'clinical-document') {
    throw errors.unsupportedMediaType({
      diagnostics: 'Content-Type: admission and discharge notifications are taken as HL7 v2 ADT',
    });
  }
  return req.kind === 'discharge-letter'
    ? mapFhirDischargeDocument(req.body, ctx)
    : mapFhirClinicalDocument(req.body, ctx);
}

/** The earlier answer to the request's Idempotency-Key (MSH-10 for HL7), counted as a duplicate; 409 as above. */
function replay(deps: IntakeDeps, req: SubmitRequest, hash: string): Promise<SubmitResult | undefined> {
  return replayEarlier(req.idempotencyKey, hash, {
    find: async (key) => (await findByIdempotencyKey(deps.db, req.client.id, key)) ?? undefined,
    hashOf: (earlier) => earlier.request_hash,
    name: (earlier) => `message ${earlier.response.id}`,
    answer: (earlier) => {
      deps.metrics.intake.inc({ kind: req.kind, outcome: 'duplicate' });
      return { response: earlier.response, replayed: true };
    },
    onConflict: () => {
      deps.metrics.intake.inc({ kind: req.kind, outcome: 'conflict' });
    },
  });
}
