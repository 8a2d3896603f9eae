import { randomUUID } from 'node:crypto';
import type { Bundle, Organization, Patient } from 'fhir/r4';
import { DEMO_CLIENTS } from '../src/auth/clients';
import { buildCareCommunication } from '../src/mappers/medcom/care-communication';
import { findEntry, headerOf } from '../src/mappers/medcom/messaging';
import { GLN_SYSTEMS } from '../src/mappers/medcom/gln';
import { SYSTEM } from '../src/mappers/systems';

/**
 * `npm run demo:reply -- <deliveryId>`: the demo GP system answers a MedCom CareCommunication it received, as a
 * GP system would: it reads the Bundle it got (GET /fhir/Bundle/<deliveryId>, as the GP), writes a
 * CareCommunication back to the sender (Provenance `reply-message` naming the received MessageHeader, sender and
 * receiver swapped, the same patient) and posts it to POST /fhir/$process-message. Prints the MedCom
 * Acknowledgement's code; the gateway routes the reply to the department's endpoint.
 * The gateway is GATEWAY_URL, else http://localhost:$PORT (default 8080). Exits non-zero naming what failed.
 */
const GP_KEY = DEMO_CLIENTS.find((c) => c.role === 'gp')?.apiKey ?? '';

/** The reply to `received` (a MedCom CareCommunication Bundle as the GP got it). */
export function demoReply(received: Bundle, now: Date): Bundle {
  const header = headerOf(received);
  if (!header || header.eventCoding?.code !== 'care-communication-message') {
    throw new Error('the Bundle is not a MedCom CareCommunication (MessageHeader.eventCoding)');
  }
  const party = (reference: string | undefined) => {
    const org = findEntry(received, reference)?.resource as Organization | undefined;
    const sor = org?.identifier?.find((i) => i.system === SYSTEM.sor)?.value;
    const gln = org?.identifier?.find((i) => i.system !== undefined && GLN_SYSTEMS.includes(i.system))?.value;
    if (!sor || !gln) {
      throw new Error(`${reference ?? 'an organisation'}: no SOR and GLN in the received Bundle`);
    }
    return { sor, gln, name: org?.name };
  };
  const gp = party(header.destination?.[0]?.receiver?.reference);
  const department = party(header.sender?.reference);
  const patient = received.entry?.find((e) => e.resource?.resourceType === 'Patient')?.resource as Patient | undefined;
  const cpr = patient?.identifier?.find((i) => i.system === SYSTEM.cpr)?.value;
  if (!cpr) {
    throw new Error('the received Bundle names no patient with a CPR number');
  }
  const name = patient?.name?.find((n) => n.use === 'official') ?? patient?.name?.[0];
  return buildCareCommunication(
    {
      messageHeaderId: randomUUID(),
      bundleId: randomUUID(),
      sender: gp,
      receiver: { ...department, endpoint: 'https://sektorbro.example/fhir' },
      patient: { cpr, name: { family: name?.family, given: name?.given } },
      category: 'other',
      topic: 'Svar på udskrivningsbrev',
      text: 'Tak for brevet. Patienten er indkaldt til samtale i praksis.',
      attachments: [],
      author: { name: 'Demo Læge', role: 'Praktiserende læge', contact: { system: 'phone', value: '33333333' } },
      writtenAt: now.toISOString(),
      replyTo: received,
    },
    { now, newId: randomUUID, gatewayEndpoint: 'https://sektorbro.example/fhir' },
  );
}

async function main(): Promise<void> {
  const deliveryId = process.argv[2];
  if (!deliveryId) {
    throw new Error('usage: npm run demo:reply -- <deliveryId> (the bundle link in GET /messages?side=received)');
  }
  const gateway = (process.env.GATEWAY_URL ?? `http://localhost:${process.env.PORT ?? '8080'}`).replace(/\/$/, '');
  const got = await fetch(`${gateway}/fhir/Bundle/${encodeURIComponent(deliveryId)}`, {
    headers: { Authorization: `Bearer ${GP_KEY}` },
  });
  if (!got.ok) {
    throw new Error(`GET /fhir/Bundle/${deliveryId}: HTTP ${got.status}`);
  }
  const reply = demoReply((await got.json()) as Bundle, new Date());
  const sent = await fetch(`${gateway}/fhir/$process-message`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${GP_KEY}`, 'Content-Type': 'application/fhir+json' },
    body: JSON.stringify(reply),
  });
  const answer = (await sent.json().catch(() => undefined)) as Bundle | undefined;
  const response = answer && headerOf(answer)?.response;
  console.log(
    `reply ${headerOf(reply)?.id ?? ''} to ${deliveryId}: HTTP ${sent.status}, acknowledgement ${response?.code ?? 'none'}`,
  );
  if (!sent.ok || response?.code !== 'ok') {
    process.exitCode = 1;
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  });
}
