import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, MessageHeader } from 'fhir/r4';
import { startMessageReceiver } from '../../scripts/fhir-message-receiver';
import { buildCareCommunication } from '../../src/mappers/medcom/care-communication';
import { GP_GLN, GP_SOR, HOSPITAL_GLN, HOSPITAL_SOR, directoryBundle } from '../helpers/directory-fixture';
import { testContext } from '../helpers/mapping-context';
import { KEY, eventually, startTestGateway } from '../helpers/test-gateway';

/**
 * MedCom reliable messaging and acknowledgements, against a MedCom GP system on loopback: a new Bundle.id for
 * every send with the same MessageHeader.id, at most 2 resends without an acknowledgement and then a dead
 * letter; the acknowledgement's MSG_* code in tracking; a GP's reply routed to the hospital department and
 * acknowledged with a MedCom Acknowledgement; duplicates and resends acknowledged but not delivered twice.
 */
const progressNote = JSON.parse(readFileSync(join(__dirname, '../../examples/progress-note.json'), 'utf8')) as object;

interface Tracking {
  status: string;
  deliveries: Array<{
    status: string;
    attempts: number;
    lastError: string | null;
    acknowledgement?: { code: string; errorCode: string | null };
  }>;
}

async function setup(env: Record<string, string> = {}, withHospitalEndpoint = false) {
  const gp = await startMessageReceiver();
  const hospital = await startMessageReceiver();
  const t = await startTestGateway({ env: { MEDCOM_RESEND_AFTER_MS: '150', ...env } });
  const loaded = await t.http
    .post('/fhir')
    .set('Authorization', `Bearer ${KEY.admin}`)
    .send(
      directoryBundle(gp.url, { medcom: true, ...(withHospitalEndpoint ? { hospitalAddress: hospital.url } : {}) }),
    );
  expect(loaded.status).toBe(200);
  return {
    gp,
    hospital,
    t,
    send: async () => {
      const res = await t.http
        .post('/send-to-own-gp')
        .set('Authorization', `Bearer ${KEY.hospital}`)
        .send(progressNote);
      expect(res.status).toBe(202);
      return res.body.id as string;
    },
    tracking: async (id: string) =>
      (await t.http.get(`/messages/${id}`).set('Authorization', `Bearer ${KEY.admin}`)).body as Tracking,
    close: async () => {
      await t.close();
      await gp.close();
      await hospital.close();
    },
  };
}

describe('MedCom reliable messaging towards a MedCom receiver', () => {
  it('resends without an acknowledgement with a new Bundle.id and the same MessageHeader.id, twice, then dead-letters', async () => {
    const s = await setup();
    try {
      s.gp.behaviour = { kind: 'empty', status: 200 };
      const id = await s.send();
      const dead = await eventually(async () => {
        const tr = await s.tracking(id);
        return tr.deliveries[0]?.status === 'dead' ? tr : undefined;
      }, 60000);
      expect(s.gp.received).toHaveLength(3);
      expect(new Set(s.gp.received.map((m) => m.messageHeaderId)).size).toBe(1);
      expect(new Set(s.gp.received.map((m) => m.bundle.id)).size).toBe(3);
      // each send is stamped with its own send time: Bundle.timestamp and the Provenance's occurred/recorded
      expect(new Set(s.gp.received.map((m) => m.bundle.timestamp)).size).toBe(3);
      for (const m of s.gp.received) {
        const own = m.bundle.entry?.find((e) => e.resource?.resourceType === 'Provenance')?.resource as unknown as {
          occurredDateTime: string;
          recorded: string;
        };
        expect([own.occurredDateTime, own.recorded]).toEqual([m.bundle.timestamp, m.bundle.timestamp]);
      }
      expect(dead.deliveries[0]?.lastError).toMatch(/no ok acknowledgement after 3 sends; MedCom allows 2 resends/);
    } finally {
      await s.close();
    }
  });

  it('an acknowledgement posted later delivers the message and stops the resends', async () => {
    const s = await setup({ MEDCOM_RESEND_AFTER_MS: '1500' });
    try {
      s.gp.behaviour = { kind: 'empty', status: 200 };
      const id = await s.send();
      await s.gp.waitFor(1);
      const message = s.gp.received[0]?.bundle as Bundle;
      const { acknowledgementFor } = await import('../../scripts/fhir-message-receiver');
      const ack = await s.t.http
        .post('/fhir/$process-message')
        .set('Authorization', `Bearer ${KEY.gp}`)
        .send(acknowledgementFor(message, 'ok', s.gp.url));
      expect(ack.status).toBe(200);
      const done = await eventually(async () => {
        const tr = await s.tracking(id);
        return tr.deliveries[0]?.status === 'delivered' ? tr : undefined;
      });
      expect(done.deliveries[0]?.acknowledgement).toEqual({ code: 'ok', errorCode: null });
      await new Promise((r) => setTimeout(r, 2000));
      expect(s.gp.received).toHaveLength(1);
    } finally {
      await s.close();
    }
  });

  it('keeps the MedCom error code of a fatal-error acknowledgement in tracking', async () => {
    const s = await setup();
    try {
      s.gp.behaviour = { kind: 'ack', code: 'fatal-error', errorCode: 'MSG_VALUESET_VALUE_UNKNOWN' };
      const id = await s.send();
      const failed = await eventually(async () => {
        const tr = await s.tracking(id);
        return tr.deliveries[0]?.status === 'failed' ? tr : undefined;
      });
      expect(failed.deliveries[0]?.acknowledgement).toEqual({
        code: 'fatal-error',
        errorCode: 'MSG_VALUESET_VALUE_UNKNOWN',
      });
      expect(failed.deliveries[0]?.lastError).toMatch(/fatal-error \(MSG_VALUESET_VALUE_UNKNOWN\)/);
    } finally {
      await s.close();
    }
  });
});

describe('a GP system replies with its CareCommunication', () => {
  it('reaches the hospital department threaded on the original, acknowledged; duplicates and resends are not delivered twice', async () => {
    const s = await setup({}, true);
    try {
      const original = await s.send();
      await s.gp.waitFor(1);
      const sent = s.gp.received[0]?.bundle as Bundle;
      const reply = buildCareCommunication(
        {
          messageHeaderId: 'a0e1b2c3-0000-4000-8000-00000000aaaa',
          bundleId: 'a0e1b2c3-0000-4000-8000-00000000bbbb',
          sender: { sor: GP_SOR, gln: GP_GLN, name: 'Lægerne i Testby' },
          receiver: { sor: HOSPITAL_SOR, gln: HOSPITAL_GLN, name: 'Psykiatrisk Center Testby', endpoint: 'x' },
          patient: { cpr: '0101901234', name: { family: 'Testesen', given: ['Test'] } },
          category: 'other',
          topic: 'Svar',
          text: 'Tak, vi følger op.',
          attachments: [],
          author: { name: 'Peter Hansen', role: 'Praktiserende læge', contact: { system: 'phone', value: '33333333' } },
          writtenAt: '2026-11-22T11:00:00+01:00',
          replyTo: sent,
        },
        testContext('2026-11-22T10:00:00Z', 'c0000000'),
      );
      const post = (b: Bundle) =>
        s.t.http.post('/fhir/$process-message').set('Authorization', `Bearer ${KEY.gp}`).send(b);
      const first = await post(reply);
      expect(first.status).toBe(200);
      const ackHeader = first.body.entry[0].resource as MessageHeader;
      expect(ackHeader.eventCoding?.code).toBe('acknowledgement-message');
      expect(ackHeader.response).toMatchObject({ identifier: 'a0e1b2c3-0000-4000-8000-00000000aaaa', code: 'ok' });

      await s.hospital.waitFor(1);
      const forwarded = s.hospital.received[0]?.bundle as Bundle;
      expect(forwarded.entry?.[0]?.resource?.id).toBe('a0e1b2c3-0000-4000-8000-00000000aaaa');
      const rows = await s.t.db.query<{ in_reply_to: string | null }>(
        'SELECT in_reply_to FROM messages WHERE message_header_id = $1',
        ['a0e1b2c3-0000-4000-8000-00000000aaaa'],
      );
      expect(rows[0]?.in_reply_to).toBe(original);

      const duplicate = await post(reply);
      expect(duplicate.body).toEqual(first.body);
      const resend = await post({ ...reply, id: 'a0e1b2c3-0000-4000-8000-00000000cccc' });
      expect(resend.body.id).not.toBe(first.body.id);
      expect(resend.body.entry[0].resource.response.code).toBe('ok');
      const reused = await post({
        ...reply,
        entry: [
          {
            ...reply.entry?.[0],
            resource: { ...(reply.entry?.[0]?.resource as MessageHeader), id: 'a0e1b2c3-0000-4000-8000-00000000dddd' },
          },
          ...(reply.entry ?? []).slice(1),
        ],
      });
      expect(reused.body.entry[0].resource.response.code).toBe('fatal-error');
      await new Promise((r) => setTimeout(r, 500));
      expect(s.hospital.received).toHaveLength(1);
      const count = await s.t.db.query('SELECT id FROM messages WHERE message_header_id::text LIKE $1', ['a0e1b2c3-%']);
      expect(count).toHaveLength(1);
    } finally {
      await s.close();
    }
  });

  it('an acknowledgement is never acknowledged', async () => {
    const s = await setup();
    try {
      await s.send();
      await s.gp.waitFor(1);
      const { acknowledgementFor } = await import('../../scripts/fhir-message-receiver');
      const res = await s.t.http
        .post('/fhir/$process-message')
        .set('Authorization', `Bearer ${KEY.gp}`)
        .send(acknowledgementFor(s.gp.received[0]?.bundle as Bundle, 'ok', s.gp.url));
      expect(res.body.resourceType).toBe('OperationOutcome');
    } finally {
      await s.close();
    }
  });
});
