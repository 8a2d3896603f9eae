import type { AuditEvent, Consent, ConsentProvision } from 'fhir/r4';
import { escapeXml } from '../errors';
import { WITHHOLDABLE } from '../mappers/minimise';
import { SYSTEM } from '../mappers/systems';

/**
 * The patient's disclosure page (GET /patients/{cpr}/disclosures, Accept: text/html) in plain Danish, or
 * English on request: what kind of information went to which named organisation, when, why, under which
 * consent, and what was refused or withheld; then the patient's consents. Every AuditEvent kind is shown:
 * known ones through the label tables below, new ones (e.g. consent changes) by their subtype's display or
 * code, so the log never hides an entry.
 *
 * Accessibility (WCAG 2.1 AA basics): `lang` on the page, one h1 and h2 per part, tables with captions and
 * column headers (`scope`), text and link colours of at least 4.5:1 contrast (the served stylesheet). No
 * inline script or style: the page works under a strict Content-Security-Policy. Everything from the data
 * (organisation names, reasons, codes) is escaped.
 */
import { DATA_CLASS, PURPOSE, type Lang } from '../mappers/consent-labels';
import { MESSAGE_KINDS } from '../messages/message-kinds';

export type { Lang };

/** A function from organisation identifier (system|value) to its name in the directory, if known. */
export type OrganisationNames = ReadonlyMap<string, string>;

export const DISCLOSURE_STYLESHEET_PATH = '/patients/disclosures.css';

type Text = Record<Lang, string>;

const UI = {
  title: { da: 'Hvem har fået oplysninger om dig', en: 'Who has received information about you' },
  intro: {
    da: 'Her kan du se, hver gang Sektorbro har sendt oplysninger om dig til en læge, et hospital, din kommune eller en arbejdsgiver, og hver gang en besked blev stoppet, fordi du ikke havde givet samtykke. Det nyeste står øverst.',
    en: 'Every time Sektorbro sent information about you to a doctor, a hospital, your municipality or an employer, or stopped a message because you had not consented, it is listed here. Newest first.',
  },
  otherLanguage: { da: 'Read this page in English', en: 'Læs siden på dansk' },
  logHeading: { da: 'Oplysninger om dig', en: 'Information about you' },
  logCaption: {
    da: 'Hvad der er sendt, til hvem, hvornår og hvorfor',
    en: 'What was sent, to whom, when and why',
  },
  nothing: { da: 'Der er ikke sendt noget om dig.', en: 'Nothing has been sent about you.' },
  when: { da: 'Hvornår', en: 'When' },
  what: { da: 'Hvad', en: 'What' },
  from: { da: 'Fra', en: 'From' },
  to: { da: 'Til', en: 'To' },
  why: { da: 'Hvorfor', en: 'Why' },
  allowedBy: { da: 'Tilladt af', en: 'Allowed by' },
  result: { da: 'Hvad skete der', en: 'What happened' },
  consentHeading: { da: 'Dine samtykker', en: 'Your consents' },
  consentCaption: {
    da: 'Hvem du har givet lov til (eller nægtet) at få oplysninger om dig',
    en: 'Whom you have allowed (or refused) to receive information about you',
  },
  noConsents: { da: 'Der er ikke registreret samtykker for dig.', en: 'No consents are recorded for you.' },
  seeConsents: {
    da: 'Se dine samtykker, som de er nu, længere nede.',
    en: 'See your consents as they are now, below.',
  },
  decision: { da: 'Afgørelse', en: 'Decision' },
  who: { da: 'Hvem', en: 'Who' },
  purposeCol: { da: 'Til hvad', en: 'For what' },
  dataCol: { da: 'Hvilke oplysninger', en: 'Which information' },
  period: { da: 'Periode', en: 'Period' },
  status: { da: 'Status', en: 'Status' },
  changed: { da: 'Sidst ændret', en: 'Last changed' },
  permit: { da: 'Ja, må få', en: 'Yes, may receive' },
  deny: { da: 'Nej, må ikke få', en: 'No, may not receive' },
  yourConsent: { da: 'dit samtykke', en: 'your consent' },
  deniedBy: { da: 'nej, efter dit samtykke', en: 'no, by your consent' },
  noConsent: { da: 'intet samtykke dækkede det', en: 'no consent covered it' },
  theLaw: { da: 'loven (behandling)', en: 'the law (treatment)' },
  withheld: { da: 'Ikke sendt', en: 'Not sent' },
  reason: { da: 'Teknisk årsag', en: 'Technical reason' },
  unknownOrg: { da: 'ukendt organisation', en: 'unknown organisation' },
  gateway: { da: 'Sektorbro', en: 'Sektorbro' },
  allOrgs: { da: 'alle i sektoren', en: 'everyone in the sector' },
  anyPurpose: { da: 'alle formål', en: 'any purpose' },
  anyData: { da: 'alle oplysninger', en: 'all information' },
  from_: { da: 'fra', en: 'from' },
  until_: { da: 'til', en: 'until' },
  noEnd: { da: 'uden slutdato', en: 'no end date' },
} satisfies Record<string, Text>;

/**
 * What kind of information an entry is about (AuditEvent.entity.name). A message kind's words are the kind table's
 * (messages/message-kinds.ts), so a new kind cannot reach this page as a raw code; the rest are log entries about
 * things that are not messages.
 */
const KIND: Record<string, Text> = {
  ...Object.fromEntries(Object.entries(MESSAGE_KINDS).map(([kind, facts]) => [kind, facts.label])),
  'subscription-notification': { da: 'En besked om en ny hændelse', en: 'A notice of something new' },
  subscription: {
    da: 'Et abonnement på hændelser om dig (fra din læge)',
    en: 'A subscription to events about you (by your doctor)',
  },
  'care-team': { da: 'Dit behandlingsteam (kontaktperson)', en: 'Your care team (care manager)' },
  consent: { da: 'Et samtykke', en: 'A consent' },
};

/** What happened (AuditEvent.subtype, sektorbro-audit-actions). */
const ACTION: Record<string, Text> = {
  delivered: { da: 'Sendt', en: 'Sent' },
  read: { da: 'Hentet af modtageren', en: 'Fetched by the recipient' },
  'delivery-failed': { da: 'Kunne ikke afleveres', en: 'Could not be delivered' },
  'dead-letter': {
    da: 'Kunne ikke afleveres efter flere forsøg',
    en: 'Could not be delivered after several attempts',
  },
  refused: { da: 'Stoppet: du havde ikke givet samtykke', en: 'Stopped: you had not consented' },
  blocked: { da: 'Stoppet inden afsendelse (samtykke)', en: 'Stopped before sending (consent)' },
  replayed: { da: 'Sendt igen af driften', en: 'Sent again by the operators' },
  discarded: { da: 'Opgivet af driften (ikke sendt)', en: 'Given up by the operators (not sent)' },
  converted: {
    da: 'Vist for afsenderen som prøve (intet sendt)',
    en: 'Shown to the sender as a dry run (nothing sent)',
  },
  'consent-created': { da: 'Samtykke registreret', en: 'Consent recorded' },
  'consent-recorded': { da: 'Samtykke registreret', en: 'Consent recorded' },
  'consent-updated': { da: 'Samtykke ændret', en: 'Consent changed' },
  'consent-changed': { da: 'Samtykke ændret', en: 'Consent changed' },
  'consent-withdrawn': { da: 'Samtykke trukket tilbage', en: 'Consent withdrawn' },
  'consent-deleted': { da: 'Samtykke trukket tilbage', en: 'Consent withdrawn' },
};

/** Why (AuditEvent.purposeOfEvent: v3 ActReason or sektorbro-purpose). */

const STATUS: Record<string, Text> = {
  active: { da: 'gælder', en: 'in force' },
  inactive: { da: 'trukket tilbage', en: 'withdrawn' },
  rejected: { da: 'afvist', en: 'rejected' },
  draft: { da: 'kladde', en: 'draft' },
  proposed: { da: 'foreslået', en: 'proposed' },
  'entered-in-error': { da: 'registreret ved en fejl', en: 'entered in error' },
};

const GATEWAY_SYSTEM = 'http://sektorbro.dk/fhir/NamingSystem/gateway';

function label(table: Record<string, Text>, code: string, lang: Lang): string {
  // An unknown code still shows: as itself, made readable.
  return table[code]?.[lang] ?? code.replace(/[-_]/g, ' ');
}

export function orgKey(id: { system?: string | undefined; value?: string | undefined }): string {
  return `${id.system ?? ''}|${id.value ?? ''}`;
}

/** Every organisation identifier the page will name, for one directory look-up each. */
export function organisationsNamedIn(
  events: readonly AuditEvent[],
  consents: readonly Consent[],
): Array<{ system: string; value: string }> {
  const ids = [
    ...events.flatMap((e) => e.agent.map((a) => a.who?.identifier)),
    ...consents.flatMap((c) =>
      provisionsOf(c.provision).flatMap((p) => (p.actor ?? []).map((a) => a.reference.identifier)),
    ),
  ];
  const found = new Map<string, { system: string; value: string }>();
  for (const id of ids) {
    if (id?.system && id.value && id.system !== SYSTEM.apiClient && id.system !== GATEWAY_SYSTEM) {
      found.set(orgKey(id), { system: id.system, value: id.value });
    }
  }
  return [...found.values()];
}

function provisionsOf(p: ConsentProvision | undefined): ConsentProvision[] {
  return p ? [p, ...(p.provision ?? []).flatMap(provisionsOf)] : [];
}

function organisation(
  who: { identifier?: { system?: string; value?: string }; display?: string } | undefined,
  names: OrganisationNames,
  lang: Lang,
): string {
  const id = who?.identifier;
  if (!id) {
    return UI.unknownOrg[lang];
  }
  if (id.system === GATEWAY_SYSTEM) {
    return UI.gateway[lang];
  }
  if (id.system === SYSTEM.sector) {
    return `${UI.allOrgs[lang]} (${label(SECTOR, id.value ?? '', lang)})`;
  }
  // The directory's name; else the name the event carried; else what kind of organisation it is.
  return names.get(orgKey(id)) ?? who.display ?? `${label(ID_KIND, id.system ?? '', lang)} ${id.value ?? ''}`;
}

const SECTOR: Record<string, Text> = {
  health: { da: 'sundhedsvæsenet', en: 'health care' },
  municipality: { da: 'kommuner', en: 'municipalities' },
  employer: { da: 'arbejdsgivere', en: 'employers' },
};

const ID_KIND: Record<string, Text> = {
  [SYSTEM.sor]: { da: 'sundhedsenhed (SOR)', en: 'health-care unit (SOR)' },
  [SYSTEM.municipality]: { da: 'kommune', en: 'municipality' },
  [SYSTEM.cvr]: { da: 'virksomhed (CVR)', en: 'company (CVR)' },
};

function when(iso: string | undefined, lang: Lang): string {
  if (!iso) {
    return '';
  }
  return new Date(iso).toLocaleString(lang === 'da' ? 'da-DK' : 'en-GB', {
    timeZone: 'Europe/Copenhagen',
    dateStyle: 'long',
    timeStyle: 'short',
  });
}

function day(iso: string | undefined, lang: Lang): string {
  return iso
    ? new Date(iso).toLocaleDateString(lang === 'da' ? 'da-DK' : 'en-GB', {
        timeZone: 'Europe/Copenhagen',
        dateStyle: 'long',
      })
    : '';
}

const e = escapeXml;

/**
 * The consent that let a delivery through when the event does not name one (deliveries record the purpose,
 * not the consent): a permit for that recipient and purpose, recorded before the event.
 */
function permittingConsent(
  consents: readonly Consent[],
  recipient: { system?: string; value?: string } | undefined,
  purpose: string | undefined,
  at: string,
): string | undefined {
  if (!recipient || !purpose || purpose === 'TREAT') {
    return undefined;
  }
  const match = consents.find(
    (c) =>
      (c.dateTime === undefined || c.dateTime <= at) &&
      provisionsOf(c.provision).some(
        (p) =>
          p.type === 'permit' &&
          (p.actor ?? []).some((a) => orgKey(a.reference.identifier ?? {}) === orgKey(recipient)) &&
          (!p.purpose?.length || p.purpose.some((x) => x.code === purpose)),
      ),
  );
  return match?.id ? `Consent/${match.id}` : undefined;
}

function eventRow(event: AuditEvent, consents: readonly Consent[], names: OrganisationNames, lang: Lang): string {
  const action = event.subtype?.[0]?.code ?? '';
  const actionText = ACTION[action]?.[lang] ?? event.subtype?.[0]?.display ?? label(ACTION, action || 'unknown', lang);
  const message = event.entity?.find((x) => x.type?.code === '2');
  const kind = message?.name ?? '';
  // An event about a consent (a change to it) rather than a message says so.
  const aboutConsent = !kind && event.entity?.some((x) => x.what?.reference?.startsWith('Consent/'));
  const what = kind
    ? label(KIND, kind, lang)
    : aboutConsent
      ? label(KIND, 'consent', lang)
      : (event.type.display ?? '');
  // The author (the sending organisation); one the gateway wrote itself (a notification) names no sender.
  const author = event.agent.find((a) => a.type?.coding?.some((c) => c.code === 'AUT'));
  const from = author?.who?.identifier?.system === GATEWAY_SYSTEM ? undefined : author;
  const recipient = event.agent.find((a) => !a.requestor && a.type?.coding?.some((c) => c.code === 'IRCP'));
  const purposeCode = event.purposeOfEvent?.[0]?.coding?.[0]?.code;
  const outcome = event.outcome ?? '0';
  const consent =
    event.entity?.find((x) => x.what?.reference?.startsWith('Consent/'))?.what?.reference ??
    (outcome === '0'
      ? permittingConsent(consents, recipient?.who?.identifier, purposeCode, event.recorded)
      : undefined);
  // A change to a consent is not a disclosure that a consent allowed: its row names who changed it and what.
  const allowedBy = aboutConsent
    ? '—'
    : consent
      ? `${outcome === '4' ? UI.deniedBy[lang] : UI.yourConsent[lang]} (${consent})`
      : outcome === '4'
        ? UI.noConsent[lang]
        : purposeCode === 'TREAT' && outcome === '0'
          ? UI.theLaw[lang]
          : '—';
  const classes =
    message?.detail
      ?.find((d) => d.type === 'data-classes')
      ?.valueString?.split(',')
      .filter(Boolean) ?? [];
  // Outside health care, what the consent did not cover was left out of what went (mappers/minimise.ts).
  const outsideHealth = recipient?.who?.identifier?.system !== SYSTEM.sor;
  const withheld =
    recipient && outsideHealth && (action === 'delivered' || action === 'read')
      ? WITHHOLDABLE.filter((c) => !classes.includes(c))
      : [];
  const consentChange = aboutConsent
    ? event.entity
        ?.find((x) => x.what?.reference?.startsWith('Consent/'))
        ?.detail?.find((d) => d.type === (lang === 'da' ? 'change-da' : 'change'))?.valueString
    : undefined;
  const notes = [
    // The change in the page's language (mappers/consent-audit-event.ts writes both); an entry from before the
    // Danish text was kept has only the English one, so the Danish page points to the table instead.
    ...(aboutConsent ? [consentChange ?? UI.seeConsents[lang]] : []),
    ...(withheld.length
      ? [`${UI.withheld[lang]}: ${withheld.map((c) => label(DATA_CLASS, c, lang)).join(', ')}.`]
      : []),
    // A refusal or block is explained by its label and the consent; a failed delivery by its technical reason.
    ...(outcome === '8' && event.outcomeDesc ? [`${UI.reason[lang]}: ${event.outcomeDesc}`] : []),
  ];
  return `<tr class="outcome-${outcome === '0' ? 'ok' : 'stopped'}">
<td>${e(when(event.recorded, lang))}</td>
<td>${e(what)}</td>
<td>${e(from ? organisation(from.who, names, lang) : '—')}</td>
<td>${e(recipient ? organisation(recipient.who, names, lang) : '—')}</td>
<td>${e(purposeCode ? label(PURPOSE, purposeCode, lang) : '—')}</td>
<td>${e(allowedBy)}</td>
<td><strong>${e(actionText)}</strong>${notes.map((n) => `<br>${e(n)}`).join('')}</td>
</tr>`;
}

function consentRows(consents: readonly Consent[], names: OrganisationNames, lang: Lang): string {
  return consents
    .flatMap((c) =>
      provisionsOf(c.provision).map((p) => {
        const who = (p.actor ?? []).map((a) => organisation(a.reference, names, lang)).join(', ') || UI.allOrgs[lang];
        const purposes = (p.purpose ?? []).map((x) => label(PURPOSE, x.code ?? '', lang)).join(', ');
        const classes = (p.class ?? []).map((x) => label(DATA_CLASS, x.code ?? '', lang)).join(', ');
        const start = p.period?.start ?? c.provision?.period?.start;
        const end = p.period?.end ?? c.provision?.period?.end;
        const period =
          start || end
            ? `${start ? `${UI.from_[lang]} ${day(start, lang)} ` : ''}${end ? `${UI.until_[lang]} ${day(end, lang)}` : UI.noEnd[lang]}`
            : UI.noEnd[lang];
        return `<tr>
<td>${e(p.type === 'deny' ? UI.deny[lang] : UI.permit[lang])}</td>
<td>${e(who)}</td>
<td>${e(purposes || UI.anyPurpose[lang])}</td>
<td>${e(classes || UI.anyData[lang])}</td>
<td>${e(period)}</td>
<td>${e(label(STATUS, c.status, lang))}</td>
<td>${e(when(c.meta?.lastUpdated ?? c.dateTime, lang))} <span class="id">(Consent/${e(c.id ?? '')}${c.meta?.versionId ? `, version ${e(c.meta.versionId)}` : ''})</span></td>
</tr>`;
      }),
    )
    .join('\n');
}

/** The whole page. `otherLanguageHref` is this page's address in the other language. */
export function disclosurePage(input: {
  events: readonly AuditEvent[];
  consents: readonly Consent[];
  names: OrganisationNames;
  lang: Lang;
  otherLanguageHref: string;
}): string {
  const { events, consents, names, lang } = input;
  const th = (t: Text) => `<th scope="col">${e(t[lang])}</th>`;
  const log =
    events.length === 0
      ? `<p>${e(UI.nothing[lang])}</p>`
      : `<table><caption>${e(UI.logCaption[lang])}</caption>
<thead><tr>${[UI.when, UI.what, UI.from, UI.to, UI.why, UI.allowedBy, UI.result].map(th).join('')}</tr></thead>
<tbody>
${events.map((ev) => eventRow(ev, consents, names, lang)).join('\n')}
</tbody></table>`;
  const consentTable =
    consents.length === 0
      ? `<p>${e(UI.noConsents[lang])}</p>`
      : `<table><caption>${e(UI.consentCaption[lang])}</caption>
<thead><tr>${[UI.decision, UI.who, UI.purposeCol, UI.dataCol, UI.period, UI.status, UI.changed].map(th).join('')}</tr></thead>
<tbody>
${consentRows(consents, names, lang)}
</tbody></table>`;
  const other: Lang = lang === 'da' ? 'en' : 'da';
  return `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(UI.title[lang])}</title>
<link rel="stylesheet" href="${DISCLOSURE_STYLESHEET_PATH}"></head>
<body><header><p><a href="${e(input.otherLanguageHref)}" hreflang="${other}" lang="${other}">${e(UI.otherLanguage[lang])}</a></p></header>
<main>
<h1>${e(UI.title[lang])}</h1>
<p>${e(UI.intro[lang])}</p>
<h2>${e(UI.logHeading[lang])}</h2>
${log}
<h2>${e(UI.consentHeading[lang])}</h2>
${consentTable}
</main></body></html>`;
}

/** The page's stylesheet (served, so the page needs no inline style under a strict CSP). */
export const DISCLOSURE_STYLESHEET = `body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;color:#1a1a1a;background:#fff;max-width:72rem;margin:1.5rem auto;padding:0 1rem;line-height:1.5}
h1{font-size:1.75rem}h2{font-size:1.35rem;margin-top:2rem}
a{color:#0b4f9c}a:focus{outline:3px solid #0b4f9c;outline-offset:2px}
table{border-collapse:collapse;width:100%}caption{text-align:left;font-weight:600;padding:.5rem 0}
th,td{border-bottom:1px solid #767676;padding:.5rem;text-align:left;vertical-align:top}
th{background:#f0f0f0}
tr.outcome-stopped td:last-child strong{color:#8a1c1c}
.id{color:#4a4a4a;font-size:.875rem}
`;
