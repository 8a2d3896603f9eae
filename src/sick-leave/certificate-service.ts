import { randomUUID } from 'node:crypto';
import type { Bundle, OperationOutcomeIssue, Patient } from 'fhir/r4';
import type { GatewayClient } from '../auth/clients';
import { recordAudit } from '../audit/record-audit';
import type { DisclosureGuard } from '../consent/disclosure-guard';
import { findOrganizationEndpoint, findPatientByCpr, type ConnectionType } from '../directory/directory';
import { GatewayError, errors, issue, outcome, reasonDetails, type IssueInput } from '../errors';
import { storeOutgoingMessage, type OutgoingMessage } from '../intake/outgoing-message';
import type { Party } from '../mappers/party';
import type { MappingContext } from '../mappers/context';
import { buildCertificateDocument, type Audience, type Withdrawal } from '../mappers/sick-leave/certificate-document';
import { checkCertificate, overlapIssue } from '../mappers/sick-leave/checks';
import { asFhirIssue, certificateFromDocument } from '../mappers/sick-leave/from-fhir';
import type { CertificateStatus, NativeSickLeaveCertificate } from '../mappers/sick-leave/types';
import { SYSTEM } from '../mappers/systems';
import type { Logger } from '../observability/logger';
import type { Db, Queryable } from '../store/db';
import { replayEarlier, requestHash, storeOrReplay } from '../store/store-or-replay';
import type { FhirValidator } from '../validation/fhir-validator';
import { assertValidBody } from '../validation/request-schemas';
import {
  certificateMessages,
  certificateRecipients,
  currentPeriods,
  findCertificateByIdempotencyKey,
  getCertificate,
  insertCertificate,
  setCertificateStatus,
  type CertificateRecipient,
  type CertificateRow,
} from './certificate-store';
import { refuseDisclosure, type Refusal } from '../consent/refuse-disclosure';
import { assertValidFhirInput } from '../validation/valid-fhir-input';

/**
 * Sick-leave certificates from a GP: checked, then sent as one message per recipient, each built for what
 * that recipient may see: the jobcentre of the patient's municipality (diagnosis and clinical note only
 * where the consent covers them) and, where the patient consented, an employer (never a diagnosis). A
 * correction replaces the earlier version and a cancellation withdraws it, at every recipient that had it:
 * a recipient of the earlier version that the correction no longer goes to is told that the certificate it
 * had is withdrawn, so nobody is left holding a certificate the physician has taken back.
 */
export interface CertificateDeps {
  db: Db;
  guard: DisclosureGuard;
  validator: FhirValidator;
  logger: Logger;
  gatewayEndpoint: string;
  onAccepted: () => void;
}

export interface CertificateAnswer {
  id: string;
  status: string;
  messages: Array<{
    id: string;
    kind?: string;
    status?: string;
    recipient: { system: string; value: string; name: string | null };
  }>;
  outcome: ReturnType<typeof outcome>;
}

const REQUIRED = ['sick-leave-minimal', 'functional-capacity', 'expected-duration'];
const PURPOSE: Record<Audience, string> = { jobcentre: 'sickness-benefit-follow-up', employer: 'employer-certificate' };
/** Certificates are issued by a practice (or an operator on its behalf): they come from health care. */
const ISSUER_SECTOR = 'health';
const MUNICIPALITY_EXTENSION = 'http://hl7.dk/fhir/core/StructureDefinition/dk-core-municipalityCodes';

interface Recipient {
  audience: Audience;
  party: Party;
  endpoint: { address: string; connectionType: ConnectionType };
}

interface Target extends Recipient {
  disclose: string[];
}

const sameParty = (a: { system: string; value: string }, b: { system: string; value: string }) =>
  a.system === b.system && a.value === b.value;
const ISSUER = (client: GatewayClient) => `${client.organization.system}|${client.organization.value}`;

/** A 403 or 409 that names the field (the helpers in errors.ts take only a sentence for these). */
function fieldError(status: 403 | 409, i: IssueInput & { expression: string; reason: string }): GatewayError {
  return new GatewayError(status, outcome([issue({ code: status === 403 ? 'forbidden' : 'conflict', ...i })]));
}

type SubmitRequest = { format: 'native' | 'fhir'; body: unknown; idempotencyKey?: string | undefined };

export async function submitCertificate(
  deps: CertificateDeps,
  client: GatewayClient,
  request: SubmitRequest,
): Promise<{ answer: CertificateAnswer; replayed: boolean }> {
  try {
    return await accept(deps, client, request);
  } catch (e) {
    // The checks speak of native fields; a sender of a FHIR document is told the element it wrote instead.
    if (request.format === 'fhir' && e instanceof GatewayError) {
      throw new GatewayError(e.status, outcome(e.outcome.issue.map(asFhirIssue)), { cause: e });
    }
    throw e;
  }
}

async function accept(
  deps: CertificateDeps,
  client: GatewayClient,
  request: SubmitRequest,
): Promise<{ answer: CertificateAnswer; replayed: boolean }> {
  const hash = requestHash(['sick-leave'], request.body);
  const replay = () =>
    replayEarlier(request.idempotencyKey, hash, {
      find: (key) => findCertificateByIdempotencyKey(deps.db, client.id, key),
      hashOf: (earlier) => earlier.requestHash,
      name: (earlier) => `certificate ${earlier.id}`,
      answer: async (earlier) => ({ answer: await describe(deps.db, earlier), replayed: true }),
    });
  const earlier = await replay();
  if (earlier) {
    return earlier;
  }
  const certificate = parse(deps, request);
  if (certificate.issuedBy.organization.sor !== client.organization.value) {
    throw fieldError(403, {
      diagnostics: `issuedBy.organization.sor: you send for SOR ${client.organization.value}, not ${certificate.issuedBy.organization.sor}`,
      expression: 'issuedBy.organization.sor',
      reason: 'not-your-organisation',
    });
  }
  const ctx: MappingContext = { now: new Date(), newId: randomUUID, gatewayEndpoint: deps.gatewayEndpoint };
  const problems = checkCertificate(certificate, ctx.now);
  if (problems.length > 0) {
    throw errors.unprocessable(...problems);
  }
  const original = await relatedCertificates(deps.db, client, certificate);
  const overlap = overlapIssue(certificate, await currentPeriods(deps.db, certificate.patient.cpr), ISSUER(client));
  if (overlap) {
    const { fromOtherPractice, ...answer } = overlap;
    if (fromOtherPractice) {
      // The attempt touched another practice's record before any consent decision: the patient's log shows it.
      await deps.db.transaction((tx) =>
        recordAudit(tx, {
          action: 'refused',
          messageKind: 'sick-leave-certificate',
          messageId: randomUUID(),
          sender: { clientId: client.id, organization: client.organization },
          patientCpr: certificate.patient.cpr,
          dataClasses: ['sick-leave-certificate'],
          reason: 'refused at intake: the period overlaps a current certificate from another practice',
        }),
      );
    }
    throw errors.unprocessable(answer);
  }

  const warnings: OperationOutcomeIssue[] = [];
  const targets: Target[] = [];
  const originalRecipients = original ? await certificateRecipients(deps.db, original.id) : [];
  const jobcentre = await jobcentreOf(deps.db, certificate, originalRecipients);
  const optional = [
    ...(certificate.diagnosis ? ['diagnosis'] : []),
    ...(certificate.clinicalNote ? ['clinical-notes'] : []),
  ];
  const toJobcentre = await decide(
    deps,
    certificate.patient.cpr,
    'municipality',
    jobcentre.party,
    PURPOSE.jobcentre,
    optional,
  );
  if (!toJobcentre.permit) {
    throw await refusal(deps, client, certificate.patient.cpr, jobcentre.party, toJobcentre);
  }
  targets.push({ ...jobcentre, audience: 'jobcentre', disclose: toJobcentre.disclose });
  for (const c of optional.filter((o) => !toJobcentre.disclose.includes(o))) {
    warnings.push({
      severity: 'information',
      code: 'suppressed',
      diagnostics: `${c} is withheld from the jobcentre: the patient's consent does not cover it`,
    });
  }

  const employer = await employerOf(deps.db, certificate, originalRecipients, warnings);
  if (employer) {
    const toEmployer = await decide(deps, certificate.patient.cpr, 'employer', employer.party, PURPOSE.employer, []);
    if (toEmployer.permit) {
      targets.push({ ...employer, audience: 'employer', disclose: [] });
    } else {
      await refusal(deps, client, certificate.patient.cpr, employer.party, toEmployer);
      warnings.push({
        severity: 'warning',
        code: 'suppressed',
        diagnostics: `employer: no copy goes to CVR ${employer.party.value}: ${toEmployer.reason}. The jobcentre copy is sent.${originalRecipients.some((r) => sameParty(r, employer.party)) ? ' The copy it had of the earlier version is withdrawn.' : ''}`,
        expression: ['employer.cvr'],
        details: reasonDetails('employer-copy-withheld'),
      });
    }
  }

  // Every recipient of the corrected certificate hears of the correction. One that this version does not
  // go to (another jobcentre or employer is named, or the employer's consent is refused now) gets a
  // withdrawal notice for the version it had. That holds for a refused consent too: the notice carries
  // nothing the employer does not already hold (the earlier period and degree, never a diagnosis), and
  // leaving the employer with a certificate the physician has taken back would keep stale health data in
  // use against the patient's current wish. The policy's certificate-cancellations rule permits it whatever
  // the consent says.
  const withdrawals = await noticeRecipients(
    deps.db,
    originalRecipients.filter((r) => !targets.some((t) => sameParty(t.party, r))),
    warnings,
  );
  for (const w of withdrawals) {
    warnings.push({
      severity: 'information',
      code: 'informational',
      diagnostics: `${w.party.name ?? w.party.value} had certificate ${original?.id ?? ''} and does not get this correction: it is told that the certificate it had is withdrawn (nothing new is disclosed)`,
    });
  }

  const id = randomUUID();
  const sender: Party = {
    system: SYSTEM.sor,
    value: client.organization.value,
    name: certificate.issuedBy.organization.name ?? null,
  };
  const result = await storeOrReplay(
    Boolean(request.idempotencyKey),
    () =>
      deps.db.transaction(async (tx) => {
        if (certificate.replaces) {
          const current = await getCertificate(tx, certificate.replaces, { forUpdate: true });
          if (current?.status !== 'current') {
            throw fieldError(409, {
              diagnostics: `replaces: certificate ${certificate.replaces} is ${current?.status ?? 'gone'} and can no longer be corrected`,
              expression: 'replaces',
              reason: 'certificate-not-current',
            });
          }
          await setCertificateStatus(tx, certificate.replaces, 'replaced');
        }
        await insertCertificate(tx, {
          id,
          issuerClientId: client.id,
          issuerOrg: ISSUER(client),
          certificate,
          idempotencyKey: request.idempotencyKey,
          requestHash: hash,
        });
        const sent: CertificateAnswer['messages'] = [];
        for (const target of targets) {
          const doc = buildCertificateDocument(
            certificate,
            {
              audience: target.audience,
              disclose: target.disclose,
              status: 'final',
              id,
              replaces: certificate.replaces,
              continues: certificate.continues,
            },
            ctx,
          );
          const messageId = await storeOutgoingMessage(tx, ctx, {
            kind: 'sick-leave-certificate',
            sender: { clientId: client.id, role: client.role, sector: ISSUER_SECTOR, party: sender },
            to: target,
            document: { entries: doc.entries, focus: doc.composition },
            disclosure: { purpose: PURPOSE[target.audience], dataClasses: [...REQUIRED, ...target.disclose] },
            patientCpr: certificate.patient.cpr,
            certificateId: id,
          });
          sent.push({
            id: messageId,
            kind: 'sick-leave-certificate',
            recipient: { system: target.party.system, value: target.party.value, name: target.party.name },
          });
        }
        if (original) {
          for (const w of withdrawals) {
            const messageId = await storeWithdrawal(
              tx,
              ctx,
              original,
              w,
              { because: 'replaced' },
              { clientId: client.id, role: client.role, sector: ISSUER_SECTOR, party: sender },
              id,
            );
            sent.push({
              id: messageId,
              kind: 'sick-leave-cancellation',
              recipient: { system: w.party.system, value: w.party.value, name: w.party.name },
            });
          }
        }
        return sent;
      }),
    replay,
  );
  if ('replayed' in result) {
    return result.replayed;
  }
  const messages = result.stored;
  deps.onAccepted();
  deps.logger.info(
    { certificateId: id, client: client.id, recipients: messages.length },
    'sick-leave certificate accepted',
  );
  return { answer: { id, status: 'current', messages, outcome: outcome(warnings) }, replayed: false };
}

function parse(
  deps: CertificateDeps,
  request: { format: 'native' | 'fhir'; body: unknown },
): NativeSickLeaveCertificate {
  if (request.format === 'native') {
    assertValidBody('NativeSickLeaveCertificate', request.body);
    return request.body as NativeSickLeaveCertificate;
  }
  assertValidFhirInput(deps.validator, request.body);
  const { certificate, issues } = certificateFromDocument(request.body as Bundle);
  if (!certificate) {
    throw errors.invalid(...issues);
  }
  // What the document says, read into the native shape, must keep the native rules too.
  assertValidBody('NativeSickLeaveCertificate', certificate);
  return certificate;
}

/** The certificate a continuation continues and the one a correction replaces: same patient, and a correction only by its issuer. */
async function relatedCertificates(
  db: Db,
  client: GatewayClient,
  c: NativeSickLeaveCertificate,
): Promise<CertificateRow | undefined> {
  const check = async (id: string | undefined, field: 'continues' | 'replaces') => {
    if (!id) {
      return undefined;
    }
    const found = await getCertificate(db, id);
    // Another practice's certificate is answered like one that does not exist: whether it exists, and its
    // status, are that practice's record, not the sender's to learn.
    if (!found || found.patientCpr !== c.patient.cpr || found.issuerOrg !== ISSUER(client)) {
      throw errors.unprocessable({
        diagnostics: `${field}: your practice has no certificate ${id} for this patient`,
        expression: field,
        reason: 'unknown-certificate',
      });
    }
    if (found.status === 'entered-in-error') {
      throw fieldError(409, {
        diagnostics: `${field}: certificate ${id} was cancelled`,
        expression: field,
        reason: 'certificate-cancelled',
      });
    }
    if (field === 'replaces' && found.status === 'replaced') {
      throw fieldError(409, {
        diagnostics: `replaces: certificate ${id} was already corrected; correct its newest version`,
        expression: field,
        reason: 'certificate-not-current',
      });
    }
    return found;
  };
  await check(c.continues, 'continues');
  return check(c.replaces, 'replaces');
}

/** A recipient's directory entry and active endpoint: a certificate goes only where the directory says now. */
async function reachable(
  db: Queryable,
  id: { system: string; value: string },
  path: string,
  what: string,
): Promise<{ party: Party; endpoint: Target['endpoint'] }> {
  const { org, endpoint } = await findOrganizationEndpoint(db, id);
  if (!org || !endpoint) {
    throw errors.unprocessable({
      diagnostics: `${path}: ${what} ${id.value} has ${org ? 'no active FHIR endpoint' : 'no entry'} in the directory`,
      expression: path,
      reason: org ? 'no-endpoint' : 'unknown-recipient',
    });
  }
  return { party: { system: id.system, value: id.value, name: org.name }, endpoint };
}

const storedEndpoint = (r: CertificateRecipient): Target['endpoint'] => ({
  address: r.endpoint.address,
  connectionType: r.endpoint.connectionType as ConnectionType,
});

function storedEndpointWarning(r: CertificateRecipient): OperationOutcomeIssue {
  return {
    severity: 'warning',
    code: 'incomplete',
    diagnostics: `${r.name ?? r.value} (${r.value}) has no active endpoint in the directory now: the message goes to ${r.endpoint.address}, where it received the certificate`,
    details: reasonDetails('no-endpoint'),
  };
}

/**
 * Where withdrawal notices go: each recipient's endpoint in the directory, else the endpoint its copy went
 * to. A recipient gone from the directory altogether is skipped with a warning: the consent check before
 * delivery would block a message to it anyway, and the others must still be told.
 */
async function noticeRecipients(
  db: Queryable,
  had: CertificateRecipient[],
  warnings: OperationOutcomeIssue[],
): Promise<Recipient[]> {
  const out: Recipient[] = [];
  for (const r of had) {
    const { org, endpoint } = await findOrganizationEndpoint(db, r);
    if (!org) {
      warnings.push({
        severity: 'warning',
        code: 'incomplete',
        diagnostics: `${r.name ?? r.value} (${r.value}) had the certificate but is no longer in the directory: it cannot be told that the certificate is withdrawn`,
        details: reasonDetails('unknown-recipient'),
      });
      continue;
    }
    if (!endpoint) {
      warnings.push(storedEndpointWarning(r));
    }
    out.push({
      audience: r.audience,
      party: { system: r.system, value: r.value, name: org.name ?? r.name },
      endpoint: endpoint ?? storedEndpoint(r),
    });
  }
  return out;
}

/** The jobcentre: named, else the one that had the corrected certificate, else the patient's municipality in the directory. */
async function jobcentreOf(db: Db, c: NativeSickLeaveCertificate, had: CertificateRecipient[]) {
  let municipality = c.jobcentre?.municipality ?? had.find((r) => r.audience === 'jobcentre')?.value;
  if (!municipality) {
    const patient = await findPatientByCpr(db, c.patient.cpr);
    municipality = c.patient.municipality ?? (patient ? municipalityOf(patient.resource) : undefined);
  }
  if (!municipality) {
    throw errors.unprocessable({
      diagnostics:
        "jobcentre: the patient's municipality is not in the directory (Patient.address with the dk-core-municipalityCodes extension); name the jobcentre by municipality code",
      expression: 'jobcentre.municipality',
      reason: 'no-municipality',
    });
  }
  return reachable(
    db,
    { system: SYSTEM.municipality, value: municipality },
    'jobcentre.municipality',
    'the jobcentre of municipality',
  );
}

function municipalityOf(patient: Patient): string | undefined {
  for (const address of patient.address ?? []) {
    const code = address.extension
      ?.find((e) => e.url === MUNICIPALITY_EXTENSION)
      ?.valueCodeableConcept?.coding?.find((c) => c.system === SYSTEM.municipality)?.code;
    if (code) {
      return code;
    }
  }
  return undefined;
}

/**
 * The employer: named in the request, or, for a correction, the one that had the original. An employer
 * taken over from the original that has lost its directory endpoint since gets no corrected copy (new
 * health data goes only to an endpoint the directory lists), but is not left holding the original either:
 * it is not a target, so it gets the withdrawal notice, at the endpoint it received the original at.
 */
async function employerOf(
  db: Db,
  c: NativeSickLeaveCertificate,
  had: CertificateRecipient[],
  warnings: OperationOutcomeIssue[],
) {
  const named = c.employer?.cvr;
  const cvr = named ?? had.find((r) => r.audience === 'employer')?.value;
  if (!cvr) {
    return undefined;
  }
  const id = { system: SYSTEM.cvr, value: cvr };
  if (!named) {
    const { org, endpoint } = await findOrganizationEndpoint(db, id);
    if (!endpoint) {
      warnings.push({
        severity: 'warning',
        code: 'suppressed',
        diagnostics: `employer: the corrected copy does not go to CVR ${cvr}, which had the original: it has ${org ? 'no active FHIR endpoint' : 'no entry'} in the directory now`,
        expression: ['employer.cvr'],
        details: reasonDetails('employer-copy-withheld'),
      });
      return undefined;
    }
  }
  return reachable(db, id, 'employer.cvr', 'the employer with CVR');
}

async function decide(
  deps: CertificateDeps,
  cpr: string,
  to: 'municipality' | 'employer',
  recipient: Party,
  purpose: string,
  optional: string[],
) {
  return deps.guard.decide(deps.db, cpr, {
    messageKind: 'sick-leave-certificate',
    from: 'health',
    to,
    recipient: { system: recipient.system, value: recipient.value },
    purpose,
    dataClasses: REQUIRED,
    optionalDataClasses: optional,
  });
}

async function refusal(
  deps: CertificateDeps,
  client: GatewayClient,
  cpr: string,
  recipient: Party,
  decision: Refusal,
): Promise<GatewayError> {
  return refuseDisclosure(
    deps.db,
    {
      messageKind: 'sick-leave-certificate',
      messageId: randomUUID(),
      sender: { clientId: client.id, organization: client.organization },
      recipient: { system: recipient.system, value: recipient.value, name: recipient.name ?? undefined },
      patientCpr: cpr,
      dataClasses: REQUIRED,
      reason: `refused at intake: ${decision.reason}`,
    },
    decision,
    `consent: ${decision.reason}`,
  );
}

/**
 * Cancels a certificate: it becomes entered-in-error, and every recipient that had it gets a withdrawal
 * notice (period and degree only: a cancellation discloses nothing new; the physician's reason goes to a
 * jobcentre whose consent covers clinical notes). Only its issuer may cancel. A
 * recipient that lost its directory endpoint since is told at the endpoint its copy went to, so a directory
 * change cannot leave a certificate current everywhere.
 */
export async function cancelCertificate(
  deps: CertificateDeps,
  client: GatewayClient,
  id: string,
  reason: string,
): Promise<CertificateAnswer> {
  const found = await getCertificate(deps.db, id);
  if (!found || (client.role !== 'admin' && found.issuerOrg !== ISSUER(client))) {
    throw errors.notFound({ diagnostics: `certificate ${id} not found` });
  }
  const ctx: MappingContext = { now: new Date(), newId: randomUUID, gatewayEndpoint: deps.gatewayEndpoint };
  const warnings: OperationOutcomeIssue[] = [];
  const recipients = await noticeRecipients(deps.db, await certificateRecipients(deps.db, id), warnings);
  const sender: Party = {
    system: SYSTEM.sor,
    value: found.certificate.issuedBy.organization.sor,
    name: found.certificate.issuedBy.organization.name ?? null,
  };
  // The physician's reason is free text (clinical notes): a jobcentre reads it only where the patient's consent
  // covers clinical notes for it now. The notice itself goes whatever the consent says.
  const reasonMayGo = new Map<Recipient, string[]>();
  for (const r of recipients.filter((x) => x.audience === 'jobcentre')) {
    const decision = await decide(deps, found.patientCpr, 'municipality', r.party, PURPOSE.jobcentre, [
      'diagnosis',
      'clinical-notes',
    ]);
    reasonMayGo.set(r, decision.permit ? decision.disclose : []);
  }
  await deps.db.transaction(async (tx) => {
    const current = await getCertificate(tx, id, { forUpdate: true });
    if (current?.status !== 'current') {
      throw errors.conflict({
        diagnostics: `certificate ${id} is ${current?.status ?? 'gone'}; only the current version can be cancelled`,
        reason: 'certificate-not-current',
      });
    }
    await setCertificateStatus(tx, id, 'entered-in-error');
    for (const r of recipients) {
      await storeWithdrawal(
        tx,
        ctx,
        found,
        r,
        { because: 'cancelled', reason },
        {
          clientId: client.id,
          role: client.role === 'admin' ? 'gp' : client.role,
          sector: ISSUER_SECTOR,
          party: sender,
        },
        id,
        reasonMayGo.get(r) ?? [],
      );
    }
  });
  deps.onAccepted();
  return { ...(await describe(deps.db, { id, status: 'entered-in-error' })), outcome: outcome(warnings) };
}

/**
 * One withdrawal notice: the certificate the recipient had, entered-in-error, built from that version (so
 * it holds nothing the recipient did not get) for the recipient's audience. Sent as a cancellation, which
 * the disclosure policy lets through whatever the consent says now. `certificateId` is the version whose
 * messages it is listed with: the cancelled one, or the correction that withdrew it.
 */
async function storeWithdrawal(
  tx: Queryable,
  ctx: MappingContext,
  had: CertificateRow,
  to: Recipient,
  withdrawal: Withdrawal,
  sender: OutgoingMessage['sender'],
  certificateId: string,
  disclose: readonly string[] = [],
): Promise<string> {
  const doc = buildCertificateDocument(
    had.certificate,
    { audience: to.audience, disclose, status: 'entered-in-error', id: had.id, withdrawal },
    ctx,
  );
  const carriesReason =
    withdrawal.because === 'cancelled' && to.audience === 'jobcentre' && disclose.includes('clinical-notes');
  return storeOutgoingMessage(tx, ctx, {
    kind: 'sick-leave-cancellation',
    sender,
    to,
    document: { entries: doc.entries, focus: doc.composition },
    disclosure: {
      purpose: PURPOSE[to.audience],
      dataClasses: ['sick-leave-minimal', ...(carriesReason ? ['clinical-notes'] : [])],
    },
    patientCpr: had.patientCpr,
    certificateId,
  });
}

/** What the issuer (or an operator) may see of a certificate: its status and the messages that carried it. */
/** A certificate already read, with the messages that carried it. */
async function describe(db: Db, found: { id: string; status: CertificateStatus }): Promise<CertificateAnswer> {
  const messages = await certificateMessages(db, found.id);
  return { id: found.id, status: found.status, messages, outcome: outcome([]) };
}

export async function readCertificate(
  deps: CertificateDeps,
  client: GatewayClient,
  id: string,
): Promise<CertificateAnswer> {
  const found = await getCertificate(deps.db, id);
  if (!found || (client.role !== 'admin' && found.issuerOrg !== ISSUER(client))) {
    throw errors.notFound({ diagnostics: `certificate ${id} not found` });
  }
  return describe(deps.db, found);
}
