import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { AuditEvent, Consent } from 'fhir/r4';
import { disclosurePage } from '../../../src/audit/disclosure-page';
import { SYSTEM } from '../../../src/mappers/systems';
import { MESSAGE_KIND_NAMES } from '../../../src/messages/message-kinds';
import { buildConsentAuditEvent, describeChange } from '../../../src/mappers/consent-audit-event';

/** The page renders AuditEvent kinds it has no label for, and escapes everything that comes from data. */
describe("the patient's disclosure page", () => {
  const consentChange: AuditEvent = {
    resourceType: 'AuditEvent',
    type: {
      system: 'http://terminology.hl7.org/CodeSystem/audit-event-type',
      code: 'rest',
      display: 'RESTful Operation',
    },
    subtype: [
      { system: 'http://sektorbro.dk/fhir/CodeSystem/sektorbro-audit-actions', code: 'consent-narrowed-by-owner' },
    ],
    action: 'U',
    recorded: '2026-11-29T10:00:00Z',
    outcome: '0',
    agent: [
      {
        type: { coding: [{ code: 'AUT' }] },
        who: { identifier: { system: SYSTEM.sor, value: '481101000016000' }, display: 'demo-gp' },
        requestor: true,
      },
    ],
    source: { observer: { display: 'Sektorbro gateway' } },
    entity: [{ what: { reference: 'Consent/c1' } }],
  };

  it('shows an unknown kind of event by its code, as a consent event, with the named organisation', () => {
    const html = disclosurePage({
      events: [consentChange],
      consents: [],
      names: new Map([[`${SYSTEM.sor}|481101000016000`, 'Lægerne <b>på</b> Torvet']]),
      lang: 'da',
      otherLanguageHref: '?lang=en',
    });
    expect(html).toContain('<html lang="da">');
    expect(html).toContain('Et samtykke');
    expect(html).toContain('consent narrowed by owner');
    expect(html).toContain('Lægerne &#60;b&#62;på&#60;/b&#62; Torvet');
    expect(html).not.toContain('<b>');
    expect(html).not.toMatch(/<script|<style|style=/);
  });
});

describe('consent changes on the patient page, in the page language', () => {
  const before: Consent = {
    resourceType: 'Consent',
    status: 'active',
    scope: { coding: [{ code: 'patient-privacy' }] },
    category: [{ coding: [{ code: '59284-0' }] }],
    policyRule: { coding: [{ code: 'OPTIN' }] },
    provision: {
      type: 'permit',
      actor: [{ role: { text: 'IRCP' }, reference: { identifier: { system: SYSTEM.municipality, value: '0101' } } }],
      purpose: [{ system: SYSTEM.purpose, code: 'sickness-benefit-follow-up' }],
      class: [{ system: SYSTEM.dataClass, code: 'functional-capacity' }],
    },
  };
  const after: Consent = {
    ...before,
    provision: { ...before.provision, class: [{ system: SYSTEM.dataClass, code: 'expected-duration' }] },
  };
  const event = buildConsentAuditEvent({
    id: 'a1',
    recorded: new Date('2026-12-01T10:00:00Z'),
    action: 'consent-changed',
    consentId: 'c1',
    version: 2,
    patientCpr: '0101901234',
    by: { clientId: 'demo-patient', role: 'patient', organization: { system: SYSTEM.cpr, value: '0101901234' } },
    before,
    after,
  });
  const page = (lang: 'da' | 'en') =>
    disclosurePage({ events: [event], consents: [], names: new Map(), lang, otherLanguageHref: '?' });

  it('says what changed in Danish on the Danish page, with the words the page uses', () => {
    const html = page('da');
    expect(html).toContain(
      'før: tillader kommune 0101 at få hvad du kan og ikke kan til Kommunens opfølgning på sygedagpenge; nu: tillader kommune 0101 at få forventet varighed til Kommunens opfølgning på sygedagpenge',
    );
    expect(html).not.toMatch(/allows|receive|was:/);
  });

  it('keeps the English text on the English page and in the log entry', () => {
    expect(page('en')).toContain('was: allows municipality 0101 to receive functional-capacity');
    expect(describeChange('consent-withdrawn', before, { ...before, status: 'inactive' }, 'da')).toBe(
      'trukket tilbage; det tillader kommune 0101 at få hvad du kan og ikke kan til Kommunens opfølgning på sygedagpenge',
    );
  });
});

describe('every kind of message, in words', () => {
  const delivered = (kind: string): AuditEvent => ({
    resourceType: 'AuditEvent',
    type: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110106', display: 'Export' },
    subtype: [{ system: 'http://sektorbro.dk/fhir/CodeSystem/sektorbro-audit-actions', code: 'delivered' }],
    action: 'C',
    recorded: '2026-11-29T10:00:00Z',
    outcome: '0',
    agent: [],
    source: { observer: { display: 'Sektorbro gateway' } },
    entity: [{ type: { code: '2' }, name: kind }],
  });

  // The kinds the gateway writes to the disclosure log: every message kind, and the log entries that are not
  // messages (src/ writes `messageKind: '<kind>'` for these). Each once showed as its raw code on the page.
  const kinds = [...MESSAGE_KIND_NAMES, 'subscription', 'subscription-notification', 'care-team'];

  it.each(kinds)('names %s in Danish and in English, never by its code', (kind) => {
    for (const lang of ['da', 'en'] as const) {
      const html = disclosurePage({
        events: [delivered(kind)],
        consents: [],
        names: new Map(),
        lang,
        otherLanguageHref: '',
      });
      const cells = [...html.matchAll(/<td>([^<]*)<\/td>/g)].map((m) => m[1]);
      expect(cells.length).toBeGreaterThan(0);
      expect(cells).not.toContain(kind);
      expect(cells).not.toContain(kind.replace(/-/g, ' '));
    }
  });

  it('has a label for every kind src/ writes to the log', () => {
    const written = execFileSync('grep', ['-rhoE', "messageKind: '[a-z-]+'", 'src'], {
      cwd: join(__dirname, '../../..'),
    })
      .toString()
      .split('\n')
      .filter(Boolean)
      .map((l) => l.replace(/messageKind: '([a-z-]+)'/, '$1'));
    expect(written.filter((k) => !kinds.includes(k))).toEqual([]);
  });
});
