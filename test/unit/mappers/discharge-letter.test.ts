import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type {
  CarePlan,
  Composition,
  Condition,
  Encounter,
  MedicationStatement,
  MessageHeader,
  Patient,
  Resource,
} from 'fhir/r4';
import { UnmappableInput } from '../../../src/mappers/unmappable-input';
import type { ClinicalDocument } from '../../../src/mappers/clinical-document';
import { mapNativeClinicalDocument } from '../../../src/mappers/clinical-document/from-native';
import {
  checkDischargeLetterCompleteness,
  flagIncompleteness,
} from '../../../src/mappers/discharge-letter/completeness';
import { mapFhirDischargeDocument } from '../../../src/mappers/discharge-letter/from-fhir';
import { mapNativeDischargeLetter, normaliseIcd10 } from '../../../src/mappers/discharge-letter/from-native';
import { buildAcknowledgement, parseAcknowledgement } from '../../../src/mappers/message/acknowledgement';
import { buildMessageBundle } from '../../../src/mappers/message/build-message';
import type { NativeDischargeLetter } from '../../../src/mappers/native-types';
import { SYSTEM } from '../../../src/mappers/systems';
import { asDocumentBundle } from '../../helpers/fixtures';
import { testContext } from '../../helpers/mapping-context';

const letter = (): NativeDischargeLetter =>
  JSON.parse(
    readFileSync(join(__dirname, '../../fixtures/discharge-letter.native.json'), 'utf8'),
  ) as NativeDischargeLetter;
const sectionCodes = (c: Composition) => (c.section ?? []).map((s) => s.code?.coding?.[0]?.code);
const ofType = <T extends Resource>(doc: ClinicalDocument, type: T['resourceType']) =>
  doc.entries.map((e) => e.resource).filter((r): r is T => r.resourceType === type);

describe('native discharge letter → FHIR document', () => {
  const doc = mapNativeDischargeLetter(letter(), testContext());

  it('makes a discharge-summary Composition with a coded section for everything a GP needs', () => {
    expect(doc.composition.type.coding?.[0]).toMatchObject({ system: SYSTEM.loinc, code: '18842-5' });
    expect(sectionCodes(doc.composition)).toEqual([
      '11535-2',
      '8648-8',
      '10183-2',
      '18776-5',
      '69730-0',
      'responsible-contact',
    ]);
    expect(doc.composition.identifier).toMatchObject({ value: 'PC-DEMO-2026-000123' });
    expect(doc.patientCpr).toBe('0101901234');
  });

  it('identifies the patient by CPR and the department by SOR', () => {
    const [patient] = ofType<Patient>(doc, 'Patient');
    expect(patient?.identifier).toEqual([{ system: SYSTEM.cpr, value: '0101901234' }]);
    const custodian = doc.entries.find((e) => e.fullUrl === doc.composition.custodian?.reference)?.resource;
    expect(custodian).toMatchObject({
      resourceType: 'Organization',
      identifier: [{ system: SYSTEM.sor, value: '265161000016004' }],
    });
  });

  it('codes diagnoses in ICD-10 (SKS DF322 normalised to F32.2) and ranks the primary first', () => {
    const conditions = ofType<Condition>(doc, 'Condition');
    expect(conditions.map((c) => c.code?.coding?.[0]?.code)).toEqual(['F32.2', 'F41.1']);
    expect(conditions.every((c) => c.code?.coding?.[0]?.system === 'http://hl7.org/fhir/sid/icd-10')).toBe(true);
    const [encounter] = ofType<Encounter>(doc, 'Encounter');
    expect(encounter?.period).toEqual({ start: '2026-10-28', end: '2026-11-20' });
    expect(encounter?.diagnosis?.find((d) => d.rank === 1)?.condition.reference).toBe(
      doc.entries.find((e) => e.resource === conditions[0])?.fullUrl,
    );
  });

  it.each([
    ['DF322', 'F32.2'],
    ['F32.2', 'F32.2'],
    ['df1020', 'F10.20'],
    ['F32', 'F32'],
  ])('normalises ICD-10 %s → %s', (input, expected) => {
    expect(normaliseIcd10(input)).toBe(expected);
  });

  it('states for each medication what changed, why, and who continues it, with ATC', () => {
    const meds = ofType<MedicationStatement>(doc, 'MedicationStatement');
    expect(meds).toHaveLength(3);
    const zopiclon = meds.find((m) => m.medicationCodeableConcept?.text === 'Zopiclon');
    expect(zopiclon?.status).toBe('stopped');
    expect(zopiclon?.medicationCodeableConcept?.coding?.[0]).toEqual({ system: SYSTEM.atc, code: 'N05CF01' });
    expect(zopiclon?.statusReason?.[0]?.text).toMatch(/Søvn/);
    const codes = zopiclon?.extension?.map((x) => x.valueCoding?.code);
    expect(codes).toEqual(['stopped', 'gp']);
  });

  it('makes the follow-up plan a CarePlan with an owner per activity', () => {
    const [plan] = ofType<CarePlan>(doc, 'CarePlan');
    expect(plan?.activity?.map((a) => a.detail?.extension?.[0]?.valueCoding?.code)).toEqual([
      'psychiatry',
      'gp',
      'patient',
    ]);
    expect(plan?.activity?.[1]?.detail?.scheduledPeriod?.end).toBe('2026-12-18');
  });

  it('gives every resource an id and a narrative, and every reference resolves inside the document', () => {
    for (const e of doc.entries) {
      expect(e.resource.id).toBeTruthy();
      expect((e.resource as { text?: { div?: string } }).text?.div).toMatch(
        /^<div xmlns="http:\/\/www.w3.org\/1999\/xhtml">/,
      );
    }
    const urls = new Set(doc.entries.map((e) => e.fullUrl));
    const refs = JSON.stringify(doc.entries).match(/"reference":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(10);
    for (const r of refs) {
      expect(urls.has(r.slice(13, -1))).toBe(true);
    }
  });

  it('escapes text that looks like markup in the narrative', () => {
    const l = letter();
    l.course = 'Score <b>3</b> & "ok"';
    const d = mapNativeDischargeLetter(l, testContext());
    const course = d.composition.section?.find((s) => s.code?.coding?.[0]?.code === '8648-8');
    expect(course?.text?.div).toContain('Score &#60;b&#62;3&#60;/b&#62; &#38; &#34;ok&#34;');
  });
});

describe('completeness of a discharge letter', () => {
  const codes = (l: NativeDischargeLetter) =>
    checkDischargeLetterCompleteness(mapNativeDischargeLetter(l, testContext())).map(
      (w) => w.details?.coding?.[0]?.code,
    );

  it('finds nothing missing in a complete letter', () => {
    expect(codes(letter())).toEqual([]);
  });

  it.each<[string, (l: NativeDischargeLetter) => void, string]>([
    [
      'no follow-up plan',
      (l) => {
        delete l.followUp;
      },
      'missing-follow-up-plan',
    ],
    [
      'no medication plan',
      (l) => {
        delete l.medications;
      },
      'missing-medication-plan',
    ],
    [
      'a medication without who continues it',
      (l) => {
        delete l.medications?.[0]?.continuedBy;
      },
      'medication-without-responsible',
    ],
    [
      'a change without reason',
      (l) => {
        delete l.medications?.[1]?.reason;
      },
      'medication-change-without-reason',
    ],
    [
      'no responsible contact',
      (l) => {
        delete l.contact;
      },
      'missing-responsible-contact',
    ],
  ])('warns about %s', (_name, change, code) => {
    const l = letter();
    change(l);
    expect(codes(l)).toEqual([code]);
  });

  it('judges a FHIR letter by the same rules', () => {
    const l = letter();
    delete l.contact;
    const fromFhir = mapFhirDischargeDocument(
      asDocumentBundle(mapNativeDischargeLetter(l, testContext())),
      testContext(),
    );
    expect(checkDischargeLetterCompleteness(fromFhir).map((w) => w.details?.coding?.[0]?.code)).toEqual([
      'missing-responsible-contact',
    ]);
  });

  it('makes what is missing visible to the GP in the letter itself', () => {
    const l = letter();
    delete l.followUp;
    const doc = mapNativeDischargeLetter(l, testContext());
    const flagged = flagIncompleteness(doc, checkDischargeLetterCompleteness(doc));
    expect(flagged.composition.meta?.tag?.[0]).toMatchObject({ code: 'incomplete' });
    expect(flagged.composition.section?.[0]?.text?.div).toMatch(/follow-up plan/);
    expect(flagged.entries[0]?.resource).toBe(flagged.composition);
    expect(doc.composition.section?.[0]?.code?.coding?.[0]?.code).not.toBe('completeness-warnings');
  });
});

describe('FHIR discharge document → ClinicalDocument', () => {
  const bundle = () => asDocumentBundle(mapNativeDischargeLetter(letter(), testContext()));
  const expectInvalid = (input: unknown, text: RegExp) => {
    let error: unknown;
    try {
      mapFhirDischargeDocument(input, testContext());
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnmappableInput);
    expect((error as UnmappableInput).issues[0]?.diagnostics).toMatch(text);
  };

  it("keeps the sender's resources and finds CPR and GP", () => {
    const b = bundle();
    const patient = b.entry?.find((e) => e.resource?.resourceType === 'Patient')?.resource as Patient;
    patient.generalPractitioner = [{ identifier: { system: SYSTEM.sor, value: '481101000016000' } }];
    const doc = mapFhirDischargeDocument(b, testContext());
    expect(doc.patientCpr).toBe('0101901234');
    expect(doc.generalPractitionerSor).toBe('481101000016000');
    expect(doc.entries).toHaveLength(b.entry?.length ?? 0);
  });

  it('gives native and FHIR input of the same letter equivalent Compositions', () => {
    const native = mapNativeDischargeLetter(letter(), testContext());
    const fhir = mapFhirDischargeDocument(asDocumentBundle(native), testContext());
    expect(sectionCodes(fhir.composition)).toEqual(sectionCodes(native.composition));
    expect(ofType<Condition>(fhir, 'Condition').map((c) => c.code?.coding?.[0]?.code)).toEqual(
      ofType<Condition>(native, 'Condition').map((c) => c.code?.coding?.[0]?.code),
    );
    expect(
      ofType<MedicationStatement>(fhir, 'MedicationStatement').map((m) => m.medicationCodeableConcept?.text),
    ).toEqual(['Escitalopram', 'Zopiclon', 'Oxazepam']);
  });

  it.each<[string, unknown, RegExp]>([
    ['not a Bundle', { resourceType: 'Patient' }, /expected a FHIR Bundle/],
    [
      'a Bundle that is not a document',
      { resourceType: 'Bundle', type: 'collection' },
      /Bundle.type: expected "document"/,
    ],
    [
      'a document whose first entry is no Composition',
      { resourceType: 'Bundle', type: 'document', entry: [{ resource: { resourceType: 'Patient' } }] },
      /first entry/,
    ],
  ])('refuses %s', (_name, input, text) => {
    expectInvalid(input, text);
  });

  it('refuses a document that is not a discharge summary, naming the accepted codes', () => {
    const b = bundle();
    (b.entry?.[0]?.resource as Composition).type = { coding: [{ system: SYSTEM.loinc, code: '11506-3' }] };
    expectInvalid(b, /18842-5, 28655-9, 11490-0, 34105-7/);
  });

  it('refuses a subject that does not resolve, and a CPR that is not 10 digits', () => {
    const b = bundle();
    (b.entry?.[0]?.resource as Composition).subject = { reference: 'urn:uuid:nowhere' };
    expectInvalid(b, /Composition.subject/);
    const c = bundle();
    const patient = c.entry?.find((e) => e.resource?.resourceType === 'Patient')?.resource as Patient;
    patient.identifier = [{ system: SYSTEM.cpr, value: '010190-1234' }];
    expectInvalid(c, /10 digits/);
  });
});

describe('message Bundle and acknowledgements', () => {
  const ctx = testContext();
  const doc = mapNativeDischargeLetter(letter(), ctx);
  const message = buildMessageBundle({
    document: doc,
    event: 'discharge-letter',
    messageHeaderId: 'a0000000-0000-4000-8000-000000000001',
    bundleId: 'b0000000-0000-4000-8000-000000000001',
    sender: { sor: '265161000016004', name: 'Psykiatrisk Center Demo' },
    receiver: { sor: '481101000016000', name: 'Lægerne på Torvet', endpointAddress: 'http://gp.test' },
    ctx,
  });
  const header = message.entry?.[0]?.resource as MessageHeader;

  it('puts the MessageHeader first with a primary receiver, sender, source.endpoint and focus', () => {
    expect(message.type).toBe('message');
    expect(header.id).toBe('a0000000-0000-4000-8000-000000000001');
    expect(header.eventCoding).toMatchObject({ system: SYSTEM.messageEvents, code: 'discharge-letter' });
    expect(header.destination?.[0]?.extension?.[0]?.valueCoding?.code).toBe('primary');
    expect(header.source.endpoint).toBe('http://gateway.test/fhir');
    const focus = message.entry?.find((e) => e.fullUrl === header.focus?.[0]?.reference)?.resource;
    expect(focus?.resourceType).toBe('Composition');
    const receiver = message.entry?.find((e) => e.fullUrl === header.destination?.[0]?.receiver?.reference)?.resource;
    expect(receiver).toMatchObject({ resourceType: 'Organization', identifier: [{ value: '481101000016000' }] });
  });

  it('reuses the department as sender instead of adding it twice, and ends with a Provenance', () => {
    const sors = (message.entry ?? [])
      .filter((e) => e.resource?.resourceType === 'Organization')
      .map((e) => JSON.stringify((e.resource as { identifier?: unknown }).identifier));
    expect(new Set(sors).size).toBe(sors.length);
    const provenance = message.entry?.at(-1)?.resource;
    expect(provenance).toMatchObject({ resourceType: 'Provenance', activity: { coding: [{ code: 'new-message' }] } });
  });

  it.each(['ok', 'transient-error', 'fatal-error'] as const)('round-trips a %s acknowledgement', (code) => {
    const ack = buildAcknowledgement(message, code, testContext(), code === 'ok' ? undefined : 'no such patient');
    expect(parseAcknowledgement(ack)).toEqual({
      respondsTo: header.id,
      code,
      ...(code === 'ok' ? {} : { diagnostics: 'no such patient' }),
    });
  });

  it('does not take an ordinary message for an acknowledgement', () => {
    expect(parseAcknowledgement(message)).toBeUndefined();
    expect(parseAcknowledgement({ resourceType: 'OperationOutcome' })).toBeUndefined();
    expect(parseAcknowledgement(null)).toBeUndefined();
  });
});

describe('send to own GP: native clinical document', () => {
  it('carries a PDF-only document as a DocumentReference', () => {
    const doc = mapNativeClinicalDocument(
      {
        patient: { cpr: '0101901234' },
        title: 'Epikrise',
        attachment: { contentType: 'application/pdf', data: 'JVBERi0xLjQK' },
        author: { name: 'Anne Holm', organization: { sor: '265161000016004' } },
      },
      testContext(),
    );
    expect(doc.composition.type.coding?.[0]?.code).toBe('11506-3');
    const ref = doc.entries.find((e) => e.resource.resourceType === 'DocumentReference');
    expect(ref?.resource).toMatchObject({
      content: [{ attachment: { contentType: 'application/pdf', data: 'JVBERi0xLjQK' } }],
    });
    expect(doc.composition.section?.[0]?.entry?.[0]?.reference).toBe(ref?.fullUrl);
  });
});
