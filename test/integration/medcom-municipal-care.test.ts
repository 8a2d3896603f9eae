import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, Encounter, MessageHeader, Organization } from 'fhir/r4';
import { startMessageReceiver, type MessageReceiver } from '../../scripts/fhir-message-receiver';
import {
  GP_SOR,
  HOME_CARE_GLN,
  HOME_CARE_SOR,
  PATIENT_CPR,
  directoryBundle,
  municipalCareBundle,
} from '../helpers/directory-fixture';
import { KEY, eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway';

/**
 * "An ADT^A01/A03 becomes a MedCom HospitalNotification to the patient's GP and, where the directory says the
 * patient receives municipal care, to the municipality" (issue 15): two loopback receivers, the GP system and
 * the municipality's home-care system; the directory's Patient names the home-care unit (municipal-care). The
 * shapes are validated against the MedCom packages in test/conformance/medcom/gateway-medcom.test.ts.
 */
const a01 = readFileSync(join(__dirname, '../fixtures/hl7v2/adt-a01.hl7'), 'latin1');
const a03 = a01
  .replace('ADT^A01^ADT_A01', 'ADT^A03^ADT_A03')
  .replace('EVN|A01|20261028093000', 'EVN|A03|20261102140000')
  .replace(/\|20261028093000$/m, '|20261028093000|20261102140000')
  .replace('ADT-2026-0001', 'ADT-2026-0002');
const resources = <T>(b: Bundle, type: string): T[] =>
  (b.entry ?? []).filter((e) => e.resource?.resourceType === type).map((e) => e.resource as T);
const receiverSor = (b: Bundle): string | undefined => {
  const header = b.entry?.[0]?.resource as MessageHeader;
  const ref = header.destination?.[0]?.receiver?.reference;
  const org = b.entry?.find((e) => e.fullUrl === ref)?.resource as Organization | undefined;
  return org?.identifier?.find((i) => i.system === 'urn:oid:1.2.208.176.1.1')?.value;
};

describe('HospitalNotification to the municipality where the patient receives municipal care', () => {
  let gp: MessageReceiver;
  let homeCare: MessageReceiver;
  let t: TestGateway;
  const post = (body: string) =>
    t.http
      .post('/hl7v2')
      .set('Authorization', `Bearer ${KEY.hospital}`)
      .set('Content-Type', 'x-application/hl7-v2+er7')
      .send(body);

  beforeAll(async () => {
    gp = await startMessageReceiver();
    homeCare = await startMessageReceiver();
    t = await startTestGateway();
    for (const bundle of [directoryBundle(gp.url, { medcom: true }), municipalCareBundle(homeCare.url)]) {
      const loaded = await t.http.post('/fhir').set('Authorization', `Bearer ${KEY.admin}`).send(bundle);
      expect(loaded.status).toBe(200);
    }
  });

  afterAll(async () => {
    await t.close();
    await gp.close();
    await homeCare.close();
  });

  it('A01 and A03 reach both the GP and the home-care unit as HospitalNotifications of one stay', async () => {
    expect((await post(a01)).status).toBe(202);
    expect((await post(a03)).status).toBe(202);
    await gp.waitFor(2);
    await homeCare.waitFor(2);
    const toGp = [...gp.unique.values()].map((m) => m.bundle);
    const toHomeCare = [...homeCare.unique.values()].map((m) => m.bundle);
    for (const b of [...toGp, ...toHomeCare]) {
      expect((b.entry?.[0]?.resource as MessageHeader).eventCoding?.code).toBe('hospital-notification-message');
    }
    expect(toGp.map(receiverSor)).toEqual([GP_SOR, GP_SOR]);
    expect(toHomeCare.map(receiverSor)).toEqual([HOME_CARE_SOR, HOME_CARE_SOR]);
    const receiver = resources<Organization>(toHomeCare[0] as Bundle, 'Organization').find((o) =>
      o.identifier?.some((i) => i.value === HOME_CARE_SOR),
    );
    expect(receiver?.identifier).toEqual(
      expect.arrayContaining([{ system: 'https://www.gs1.org/gln', value: HOME_CARE_GLN }]),
    );
    // the same stay for both receivers: one episode-of-care identifier, the same period
    const episodes = [...toGp, ...toHomeCare].map(
      (b) => resources<Encounter>(b, 'Encounter')[0]?.episodeOfCare?.[0]?.identifier?.value,
    );
    expect(new Set(episodes).size).toBe(1);
    expect(episodes[0]).toBeDefined();
    // one message per ADT event, two deliveries, each its own Bundle.id, each disclosure audited
    const rows = await eventually(async () => {
      const r = await t.db.query<{ recipient_sor: string; status: string; bundle_id: string }>(
        "SELECT recipient_value AS recipient_sor, status, bundle->>'id' AS bundle_id FROM deliveries WHERE status = 'delivered'",
      );
      return r.length >= 4 ? r : undefined;
    });
    expect(rows.map((r) => r.recipient_sor).sort()).toEqual([GP_SOR, GP_SOR, HOME_CARE_SOR, HOME_CARE_SOR]);
    expect(new Set(rows.map((r) => r.bundle_id)).size).toBe(4);
    const audits = await t.db.query<{ n: string }>(
      "SELECT count(*) AS n FROM audit_events WHERE action = 'delivered' AND resource::text LIKE $1",
      [`%${HOME_CARE_SOR}%`],
    );
    expect(Number(audits[0]?.n)).toBe(2);
  });

  it('no longer reaches the municipality once the care has ended', async () => {
    const loaded = await t.http
      .post('/fhir')
      .set('Authorization', `Bearer ${KEY.admin}`)
      .send(municipalCareBundle(homeCare.url, { period: { start: '2025-01-01', end: '2025-12-31' } }));
    expect(loaded.status).toBe(200);
    const before = { gp: gp.unique.size, homeCare: homeCare.unique.size };
    expect((await post(a01.replace('ADT-2026-0001', 'ADT-2026-0003'))).status).toBe(202);
    await gp.waitFor(before.gp + 1);
    const rows = await t.db.query<{ n: string }>(
      'SELECT count(*) AS n FROM deliveries d JOIN messages m ON m.id = d.message_id WHERE m.patient_cpr = $1',
      [PATIENT_CPR],
    );
    expect(Number(rows[0]?.n)).toBe(5);
    expect(homeCare.unique.size).toBe(before.homeCare);
  });

  it('refuses with a 422 naming it when the home-care unit has no endpoint', async () => {
    // another unit, without an endpoint, now cares for the patient
    const bundle = JSON.parse(
      JSON.stringify(municipalCareBundle(homeCare.url)).replaceAll(HOME_CARE_SOR, '953741000016998'),
    );
    const unit = bundle.entry[0].resource as Organization;
    delete unit.endpoint;
    unit.name = 'Hjemmesygeplejen Testby';
    bundle.entry.splice(1, 1);
    const loaded = await t.http.post('/fhir').set('Authorization', `Bearer ${KEY.admin}`).send(bundle);
    expect(loaded.status).toBe(200);
    const res = await post(a01.replace('ADT-2026-0001', 'ADT-2026-0004'));
    expect(res.status).toBe(422);
    expect(JSON.stringify(res.body)).toMatch(
      /Hjemmesygeplejen Testby \(SOR 953741000016998\) has no active FHIR endpoint/,
    );
  });
});
