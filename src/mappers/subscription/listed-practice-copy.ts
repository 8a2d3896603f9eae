import type { Bundle, BundleEntry, MessageHeader, Provenance } from 'fhir/r4';

/**
 * The document a message carried, as the patient's listed practice gets it when the practice was not an
 * addressee (a discharge letter the hospital sent to a specialist, say): a `collection` Bundle under the
 * message's id with the message's resources but not its addressing (the MessageHeader, the Provenance of the
 * message, and organisations nothing else points at, i.e. the addressee). The addressee's own Bundle is
 * never handed to anyone else. The copy is made from that Bundle, so it never holds more than the addressee
 * got: a document minimised for another sector stays minimised.
 */
export function listedPracticeCopy(message: Bundle, id: string): Bundle {
  const entries = message.entry ?? [];
  const header = entries.find((e) => e.resource?.resourceType === 'MessageHeader') as
    | (BundleEntry & { resource: MessageHeader })
    | undefined;
  const addressing = (e: BundleEntry) =>
    e === header ||
    (e.resource?.resourceType === 'Provenance' &&
      header?.fullUrl !== undefined &&
      (e.resource as Provenance).target.some((t) => t.reference === header.fullUrl));
  const content = entries.filter((e) => !addressing(e));
  const pointedAt = (e: BundleEntry) =>
    e.fullUrl !== undefined &&
    content.some((other) => other !== e && JSON.stringify(other.resource ?? {}).includes(`"${e.fullUrl}"`));
  const kept = content.filter((e) => e.resource?.resourceType !== 'Organization' || pointedAt(e));
  return {
    resourceType: 'Bundle',
    id,
    type: 'collection',
    ...(message.timestamp ? { timestamp: message.timestamp } : {}),
    entry: kept.map((e) => ({
      ...(e.fullUrl ? { fullUrl: e.fullUrl } : {}),
      ...(e.resource ? { resource: e.resource } : {}),
    })),
  };
}
