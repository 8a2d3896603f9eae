import type { Bundle, BundleEntry, OperationOutcome, Organization, Provenance } from 'fhir/r4';
import type { MappingContext } from '../context';
import { narrative } from '../narrative';
import { entry, type Entry } from '../native-parts';
import { findEntry, headerOf, medcomBundle, medcomMessageHeader, medcomProvenance } from './messaging';
import { MEDCOM_PROFILE, MEDCOM_SYSTEM } from './medcom-systems';

/**
 * MedCom Acknowledgement 2.0.x (kvittering) for a received MedCom message: the receiver of the message sends it
 * back to the message's source.endpoint; MessageHeader.response names the acknowledged MessageHeader.id and says
 * ok, transient-error or fatal-error, with an OperationOutcome carrying a medcom-acknowledgement-error-codes
 * code (MSG_*) when not ok. It carries the acknowledged message's own Provenance (message history) and one of
 * its own (activity `acknowledgement`, entity `revision` = the acknowledged MessageHeader's fullUrl).
 */
export type AckCode = 'ok' | 'transient-error' | 'fatal-error';

export interface MedComAckArgs {
  /** The received message. */
  message: Bundle;
  code: AckCode;
  /** medcom-acknowledgement-error-codes code for transient-error / fatal-error. */
  errorCode?: string | undefined;
  /** The error code's system: medcom-acknowledgement-error-codes unless the code is one of HL7's MSG_* codes. */
  errorSystem?: string | undefined;
  diagnostics?: string | undefined;
  bundleId: string;
  messageHeaderId: string;
  /** Where this acknowledgement says it comes from (the receiver's endpoint). */
  sourceEndpoint: string;
}

/** Whether a message is itself an acknowledgement (never acknowledged, MedCom reliable messaging). */
export function isAcknowledgement(bundle: Bundle): boolean {
  const header = headerOf(bundle);
  return header?.eventCoding?.code === 'acknowledgement-message' || header?.response !== undefined;
}

/** Throws when the received message lacks what an acknowledgement must name (the caller answers 400). */
export function buildMedComAcknowledgement(a: MedComAckArgs, ctx: MappingContext): Bundle {
  const P = MEDCOM_PROFILE.acknowledgement;
  const acked = headerOf(a.message);
  const ackedEntry = a.message.entry?.[0];
  if (!acked?.id || !ackedEntry) {
    throw new Error('the acknowledged message has no MessageHeader with an id');
  }
  const ackedFullUrl = ackedEntry.fullUrl ?? `MessageHeader/${acked.id}`;
  const senderOf = findEntry(a.message, acked.destination?.[0]?.receiver?.reference);
  const receiverOf = findEntry(a.message, acked.sender?.reference);
  if (senderOf?.resource?.resourceType !== 'Organization' || receiverOf?.resource?.resourceType !== 'Organization') {
    throw new Error('the acknowledged message does not carry its sender and receiver Organizations');
  }
  // the organisations keep their fullUrls, so the copied history Provenance still resolves its agent
  const org = (e: BundleEntry): Entry<Organization> => {
    const r = e.resource as Organization;
    return {
      fullUrl: e.fullUrl ?? `Organization/${r.id ?? ''}`,
      resource: {
        resourceType: 'Organization',
        ...(r.id ? { id: r.id } : {}),
        meta: { profile: [P.organization] },
        text: r.text ?? narrative(r.name ?? 'Organisation'),
        identifier: (r.identifier ?? []).map((i) =>
          i.system === 'http://www.gs1.org/gln' ? { ...i, system: MEDCOM_SYSTEM.gln } : i,
        ),
        ...(r.name ? { name: r.name } : {}),
      },
    };
  };
  const sender = org(senderOf);
  const receiver = org(receiverOf);
  const outcome =
    a.code === 'ok'
      ? undefined
      : entry<OperationOutcome>({
          resourceType: 'OperationOutcome',
          id: ctx.newId(),
          meta: { profile: [P.operationOutcome] },
          text: narrative(`${a.errorCode ?? a.code}${a.diagnostics ? `: ${a.diagnostics}` : ''}`),
          issue: [
            {
              severity: 'error',
              code: a.code === 'transient-error' ? 'transient' : 'invalid',
              ...(a.errorCode
                ? {
                    details: {
                      coding: [{ system: a.errorSystem ?? MEDCOM_SYSTEM.acknowledgementErrorCodes, code: a.errorCode }],
                    },
                  }
                : {}),
              ...(a.diagnostics ? { diagnostics: a.diagnostics.slice(0, 500) } : {}),
            },
          ],
        });
  const header = medcomMessageHeader({
    id: a.messageHeaderId,
    profile: P.messageHeader,
    event: 'acknowledgement-message',
    definition: P.definition,
    sender,
    receiver,
    // source.endpoint is required of the acknowledged message; without it, the sender's SOR address
    destinationEndpoint:
      acked.source?.endpoint ??
      `https://sor2.sum.dsdn.dk/#id=${receiver.resource.identifier?.find((i) => i.system === MEDCOM_SYSTEM.sor)?.value ?? ''}`,
    sourceEndpoint: a.sourceEndpoint,
    response: {
      identifier: acked.id,
      code: a.code,
      ...(outcome ? { details: { reference: outcome.fullUrl } } : {}),
    },
    text: `Kvittering (${a.code}) for meddelelse ${acked.id}`,
  });
  const sentAt = ctx.now.toISOString();
  const history = (a.message.entry ?? []).filter((e): e is Entry<Provenance> => {
    const r = e.resource as Provenance | undefined;
    return (
      r?.resourceType === 'Provenance' &&
      r.target.some((t) => t.reference === ackedFullUrl || t.reference === `MessageHeader/${acked.id}`)
    );
  });
  const own = medcomProvenance(
    {
      profile: P.provenance,
      header,
      activity: 'acknowledgement',
      agent: sender,
      sentAt,
      revisionOf: ackedFullUrl,
      text: `Kvittering afsendt ${sentAt}`,
    },
    ctx,
  );
  const historyCopies = history.map((h) => ({
    fullUrl: h.fullUrl,
    resource: { ...h.resource, meta: { profile: [P.provenance] } },
  }));
  return medcomBundle(P.message, a.bundleId, sentAt, [
    header,
    ...(outcome ? [outcome] : []),
    sender,
    receiver,
    ...historyCopies,
    own,
  ]);
}
