import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UnmappableInput } from '../../../src/mappers/unmappable-input';
import { parseHl7Message } from '../../../src/hl7v2/parse';
import { mapNativeDischargeLetter } from '../../../src/mappers/discharge-letter/from-native';
import { mapHl7ToDischargeLetter } from '../../../src/mappers/hl7v2/to-discharge-letter';
import { assertValidBody } from '../../../src/validation/request-schemas';
import { testContext } from '../../helpers/mapping-context';

const fixture = () => readFileSync(join(__dirname, '../../fixtures/hl7v2/mdm-t02-discharge.hl7'), 'utf8');
const map = (text: string) => mapHl7ToDischargeLetter(parseHl7Message(text));
const refusal = (text: string) => {
  try {
    map(text);
  } catch (e) {
    return e as UnmappableInput;
  }
  throw new Error('expected a refusal');
};

describe('HL7 v2 MDM^T02 → native discharge letter', () => {
  const letter = map(fixture());

  it('takes the CPR from the PID-3 repetition whose assigning authority says CPR', () => {
    expect(letter.patient).toEqual({ cpr: '0101901234', name: { family: 'Jensen', given: ['Mette'] } });
  });

  it('joins TX/FT OBX values in order, decoding escapes and line breaks', () => {
    expect(letter.text).toBe(
      [
        'Udskrivningsbrev til egen læge.',
        'Forløb: indlagt med depression & angst; score 7^10.\nIngen selvmordstanker de sidste 10 dage.',
        'Medicin: escitalopram 15 mg\\dag | kontrol om 4 uger.',
        'Opfølgning i distriktspsykiatrien.',
      ].join('\n'),
    );
  });

  it('carries a Base64 PDF from an ED OBX as an attachment', () => {
    expect(letter.attachments).toEqual([
      {
        contentType: 'application/pdf',
        data: expect.stringMatching(/^JVBERi0/) as string,
        title: 'Udskrivningsbrev (PDF)',
      },
    ]);
  });

  it('takes department (SOR from MSH-4), stay (PV1-44/45), author (TXA-9), document id (TXA-12) and diagnoses (DG1)', () => {
    expect(letter.department).toEqual({ sor: '265161000016004', name: 'Afsnit P3' });
    // Full precision, in Danish time (no offset in the message): 09:30 is not truncated to a date.
    expect(letter.admission).toEqual({ start: '2026-10-28T09:30:00+01:00', end: '2026-11-20T10:00:00+01:00' });
    expect(letter.author.name).toBe('Anne Holm');
    expect(letter.documentId).toBe('PC-DEMO-2026-000123');
    expect(letter.diagnoses).toEqual([
      { code: 'DF322', display: 'Depressiv enkeltepisode af svær grad', primary: true },
    ]);
  });

  it('is a valid native letter, and becomes the same kind of FHIR as the JSON path', () => {
    expect(() => {
      assertValidBody('NativeDischargeLetter', letter);
    }).not.toThrow();
    const doc = mapNativeDischargeLetter(letter, testContext());
    expect(doc.composition.type.coding?.[0]?.code).toBe('18842-5');
    expect((doc.composition.section ?? []).map((s) => s.code?.coding?.[0]?.code)).toEqual([
      '11535-2',
      'letter-text',
      'attachments',
    ]);
  });

  it.each([
    ['a message type that is no document', (t: string) => t.replace('MDM^T02^MDM_T02', 'ADT^A08^ADT_A01'), /MSH-9/],
    [
      'no CPR among the PID-3 repetitions',
      (t: string) => t.replace('0101901234^^^CPR^NNDNK', '0101901234^^^HOSP^MR'),
      /PID-3/,
    ],
    [
      'no document content (like MDM^T01)',
      (t: string) =>
        t
          .split('\r')
          .filter((l) => !l.startsWith('OBX'))
          .join('\r'),
      /OBX-5/,
    ],
    [
      'no SOR in the sending facility',
      (t: string) => t.replace('Psykiatrisk Center Demo^265161000016004^L', 'PCD'),
      /MSH-4/,
    ],
    ['no admission date', (t: string) => t.replace('20261028093000|20261120100000', '|'), /PV1-44/],
  ])('refuses %s, naming the HL7 field', (_name, change, field) => {
    const error = refusal(change(fixture()));
    expect(error).toBeInstanceOf(UnmappableInput);
    expect(error.issues[0]?.expression).toMatch(field);
  });
});

describe('HL7 v2 MDM^T10: a document replacing an earlier one', () => {
  const t10 = () =>
    fixture()
      .replace('MDM^T02^MDM_T02', 'MDM^T10^MDM_T10')
      .replace('PC-DEMO-2026-000123||||AU', 'PC-DEMO-2026-000124|PC-DEMO-2026-000123|||AU');

  it('says which document it replaces, down to Composition.relatesTo', () => {
    const letter = map(t10());
    expect(letter.documentId).toBe('PC-DEMO-2026-000124');
    expect(letter.replaces).toBe('PC-DEMO-2026-000123');
    const doc = mapNativeDischargeLetter(letter, testContext());
    expect(doc.composition.relatesTo).toEqual([
      {
        code: 'replaces',
        targetIdentifier: {
          system: 'http://sektorbro.dk/fhir/NamingSystem/document-id/265161000016004',
          value: 'PC-DEMO-2026-000123',
        },
      },
    ]);
  });

  it('refuses a T10 that does not name the replaced document (TXA-13)', () => {
    expect(refusal(fixture().replace('MDM^T02^MDM_T02', 'MDM^T10^MDM_T10')).issues[0]?.expression).toBe('TXA-13');
  });
});
