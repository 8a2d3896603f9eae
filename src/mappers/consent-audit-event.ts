import type { AuditEvent, Consent, ConsentProvision } from 'fhir/r4';
import { escapeXml } from '../errors';
import { AUDIT_ACTION_SYSTEM } from './audit-event';
import { DATA_CLASS, PURPOSE, labelOf, type Lang } from './consent-labels';
import { SYSTEM } from './systems';

/**
 * The disclosure-log entry for a consent being recorded, changed or withdrawn: who did it (client, role,
 * organisation), which version it made, and what the consent allowed before and allows now, in plain words, so
 * the patient sees every change to what may be disclosed about them. A FHIR R4 AuditEvent of type `rest`
 * (audit-event-type) with the RESTful interaction and the gateway's action as subtypes; the Consent entity names
 * the version (Consent/{id}/_history/{vid}) and carries the change as detail `change`.
 */
export interface ConsentAuditInput {
  id: string;
  recorded: Date;
  action: 'consent-recorded' | 'consent-changed' | 'consent-withdrawn';
  consentId: string;
  version: number;
  patientCpr: string;
  by: { clientId: string; role: string; organization: { system: string; value: string } };
  before?: Consent | undefined;
  after: Consent;
}

const INTERACTION = {
  'consent-recorded': { code: 'create', action: 'C' },
  'consent-changed': { code: 'update', action: 'U' },
  'consent-withdrawn': { code: 'delete', action: 'D' },
} as const;

export function buildConsentAuditEvent(input: ConsentAuditInput): AuditEvent {
  const change = describeChange(input.action, input.before, input.after);
  const summary = `Consent/${input.consentId} version ${input.version} ${input.action.replace('consent-', '')} by ${input.by.clientId} (${input.by.role}): ${change}`;
  return {
    resourceType: 'AuditEvent',
    id: input.id,
    text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${escapeXml(summary)}</div>` },
    type: {
      system: 'http://terminology.hl7.org/CodeSystem/audit-event-type',
      code: 'rest',
      display: 'RESTful Operation',
    },
    subtype: [
      { system: AUDIT_ACTION_SYSTEM, code: input.action },
      { system: 'http://hl7.org/fhir/restful-interaction', code: INTERACTION[input.action].code },
    ],
    action: INTERACTION[input.action].action,
    recorded: input.recorded.toISOString(),
    outcome: '0',
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
        role: [{ text: input.by.role }],
        who: { identifier: input.by.organization, display: input.by.clientId },
        altId: input.by.clientId,
        requestor: true,
      },
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
      {
        what: { identifier: { system: SYSTEM.cpr, value: input.patientCpr } },
        type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '1', display: 'Person' },
        role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '1', display: 'Patient' },
      },
      {
        what: { reference: `Consent/${input.consentId}/_history/${input.version}` },
        type: { system: SYSTEM.resourceTypes, code: 'Consent' },
        // `change` in English (also in the narrative), `change-da` the same in Danish for the patient's page.
        detail: [
          { type: 'change', valueString: change },
          { type: 'change-da', valueString: describeChange(input.action, input.before, input.after, 'da') },
        ],
      },
    ],
  };
}

const WORDS = {
  en: {
    noChange: 'no change to what it allows or refuses',
    was: 'was',
    now: 'now',
    withdrawn: 'withdrawn; it',
    allows: (who: string, what: string) => `allows ${who} to receive ${what}`,
    refuses: (who: string, what: string) => `refuses ${who} ${what}`,
    anyone: 'anyone',
    everyone: 'everyone',
    anyInfo: 'any information',
    allInfo: 'all information',
    for: 'for',
    to: 'to',
    nothing: 'allows and refuses nothing',
    status: 'status',
    municipality: 'municipality',
    employer: 'employer CVR',
    sector: (v: string) => `the whole ${v} sector`,
  },
  da: {
    noChange: 'ingen ændring i, hvad det tillader eller afviser',
    was: 'før',
    now: 'nu',
    withdrawn: 'trukket tilbage; det',
    allows: (who: string, what: string) => `tillader ${who} at få ${what}`,
    refuses: (who: string, what: string) => `afviser, at ${who} får ${what}`,
    anyone: 'alle',
    everyone: 'nogen',
    anyInfo: 'alle oplysninger',
    allInfo: 'oplysninger',
    for: 'til',
    to: 'til',
    nothing: 'tillader og afviser intet',
    status: 'status',
    municipality: 'kommune',
    employer: 'arbejdsgiver med CVR',
    sector: (v: string) =>
      `hele ${({ health: 'sundhedssektoren', municipality: 'kommunerne', employer: 'arbejdsgiverne' } as Record<string, string>)[v] ?? v}`,
  },
} as const;

/** What the change did, in plain words: the new content, or the old and the new where they differ. */
export function describeChange(
  action: ConsentAuditInput['action'],
  before: Consent | undefined,
  after: Consent,
  lang: Lang = 'en',
): string {
  const w = WORDS[lang];
  const now = describeConsent(after, lang);
  if (action === 'consent-recorded' || !before) {
    return now;
  }
  if (action === 'consent-withdrawn') {
    return `${w.withdrawn} ${describeConsent({ ...before, status: 'active' }, lang)}`;
  }
  const was = describeConsent(before, lang);
  return was === now ? w.noChange : `${w.was}: ${was}; ${w.now}: ${now}`;
}

/** One consent in plain words: "allows municipality 0101 to receive functional-capacity for …; refuses …". */
export function describeConsent(consent: Consent, lang: Lang = 'en'): string {
  const w = WORDS[lang];
  const parts: string[] = [];
  const walk = (
    p: ConsentProvision,
    inherited: { actors: string; purposes: string; classes: string; period: string },
  ) => {
    const own = {
      actors: p.actor?.length
        ? p.actor.map((a) => actorText(a.reference?.identifier, lang)).join(', ')
        : inherited.actors,
      purposes: p.purpose?.length ? p.purpose.map((c) => words(PURPOSE, c.code, lang)).join(', ') : inherited.purposes,
      classes: p.class?.length ? p.class.map((c) => words(DATA_CLASS, c.code, lang)).join(', ') : inherited.classes,
      period: p.period ? ` (${p.period.start ?? '…'} ${w.to} ${p.period.end ?? '…'})` : inherited.period,
    };
    const purpose = own.purposes ? ` ${w.for} ${own.purposes}` : '';
    parts.push(
      p.type === 'permit'
        ? `${w.allows(own.actors || w.anyone, own.classes || w.anyInfo)}${purpose}${own.period}`
        : `${w.refuses(own.actors || w.everyone, own.classes || w.allInfo)}${purpose}${own.period}`,
    );
    for (const nested of p.provision ?? []) {
      walk(nested, own);
    }
  };
  if (consent.provision) {
    walk(consent.provision, { actors: '', purposes: '', classes: '', period: '' });
  }
  const status = consent.status === 'active' ? '' : ` [${w.status} ${consent.status}]`;
  return `${parts.join('; ') || w.nothing}${status}`;
}

/** English keeps the codes as they were always written (the log's text); Danish gives the page's words. */
function words(table: Parameters<typeof labelOf>[0], code: string | undefined, lang: Lang): string {
  return lang === 'en' ? (code ?? '?') : labelOf(table, code ?? '?', lang);
}

function actorText(id: { system?: string; value?: string } | undefined, lang: Lang): string {
  const w = WORDS[lang];
  const system: string = id?.system ?? '';
  const value = id?.value ?? '?';
  switch (system) {
    case SYSTEM.municipality:
      return `${w.municipality} ${value}`;
    case SYSTEM.sor:
      return `SOR ${value}`;
    case SYSTEM.cvr:
      return `${w.employer} ${value}`;
    case SYSTEM.sector:
      return w.sector(value);
    default:
      return value;
  }
}
