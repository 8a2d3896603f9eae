import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle } from 'fhir/r4';
import { parse as parseYaml } from 'yaml';
import { parseHl7Message } from '../../../src/hl7v2/parse';
import { mapHl7ToEncounterNotification } from '../../../src/mappers/hl7v2/to-encounter-notification';
import { buildCareCommunication } from '../../../src/mappers/medcom/care-communication';
import { buildHospitalNotification } from '../../../src/mappers/medcom/hospital-notification';
import { buildMedComAcknowledgement } from '../../../src/mappers/medcom/acknowledgement';
import { textToPdfBase64 } from '../../../src/mappers/medcom/text-pdf';
import { testContext } from '../../helpers/mapping-context';
import { validateMedComMessage } from './medcom-validator';

/** Every MedCom message the gateway's mappers build validates against the stack of its profile. */
const hospital = { sor: '265161000016004', gln: '5790000209354', name: 'Psykiatrisk Center Demo, Afsnit P3' };
const gp = { sor: '481101000016000', gln: '5790001348120', name: 'Lægerne på Torvet', endpoint: 'http://gp.test/fhir' };
const patient = { cpr: '0101901234', name: { family: 'Jensen', given: ['Jens'] } };

export function careCommunication(replyTo?: Parameters<typeof buildCareCommunication>[0]['replyTo']): Bundle {
  return buildCareCommunication(
    {
      messageHeaderId: '6f1f2b70-0000-4000-8000-000000000001',
      bundleId: '6f1f2b70-0000-4000-8000-000000000002',
      sender: hospital,
      receiver: gp,
      patient,
      category: 'discharge',
      topic: 'Epikrise',
      text: 'Udskrevet i god bedring.\nEscitalopram 15 mg fortsættes.',
      attachments: [
        { contentType: 'application/pdf', data: textToPdfBase64('Epikrise', 'Udskrevet'), title: 'Epikrise' },
      ],
      author: { name: 'Anne Holm', role: 'Overlæge', contact: { system: 'phone', value: '38643864' } },
      writtenAt: '2026-11-22T09:30:00+01:00',
      replyTo,
    },
    testContext('2026-11-22T10:00:00Z', '5e000000'),
  );
}

const errorsOf = (b: Bundle): string[] => validateMedComMessage(b).map((i) => i.diagnostics ?? '');

describe('MedCom outputs validate against the MedCom packages', () => {
  it('CareCommunication 5.0.2 (discharge letter with its PDF)', () => {
    expect(errorsOf(careCommunication())).toEqual([]);
  });

  it('HospitalNotification 3.0.2 from an ADT^A01', () => {
    const hl7 = readFileSync(join(__dirname, '../../fixtures/hl7v2/adt-a01.hl7'), 'latin1');
    const ctx = testContext();
    const notification = mapHl7ToEncounterNotification(parseHl7Message(hl7), ctx);
    const bundle = buildHospitalNotification(
      { notification, messageHeaderId: ctx.newId(), bundleId: ctx.newId(), sender: hospital, receiver: gp, patient },
      ctx,
    );
    expect(errorsOf(bundle)).toEqual([]);
  });

  it.each(['ok', 'transient-error', 'fatal-error'] as const)('Acknowledgement 2.0.3 (%s)', (code) => {
    const ctx = testContext('2026-11-22T10:01:00Z', '7a000000');
    const ack = buildMedComAcknowledgement(
      {
        message: careCommunication(),
        code,
        ...(code === 'ok' ? {} : { errorCode: 'MSG_Mailbox_Out_Of_Operation', diagnostics: 'closed' }),
        bundleId: ctx.newId(),
        messageHeaderId: ctx.newId(),
        sourceEndpoint: 'http://gp.test/fhir',
      },
      ctx,
    );
    expect(errorsOf(ack)).toEqual([]);
  });
});

describe('the MedCom examples in openapi.yaml', () => {
  it('the medcomReply CareCommunication and the medcomAcknowledgement answer validate', () => {
    const spec = parseYaml(readFileSync(join(__dirname, '../../../openapi.yaml'), 'utf8')) as {
      paths: Record<
        string,
        {
          post: {
            requestBody: { content: Record<string, { examples: Record<string, { value: Bundle }> }> };
            responses: Record<string, { content?: Record<string, { examples?: Record<string, { value: Bundle }> }> }>;
          };
        }
      >;
    };
    const op = spec.paths['/fhir/$process-message']?.post;
    const reply = op?.requestBody.content['application/fhir+json']?.examples.medcomReply?.value as Bundle;
    const ack = op?.responses['200']?.content?.['application/fhir+json']?.examples?.medcomAcknowledgement
      ?.value as Bundle;
    expect(errorsOf(reply)).toEqual([]);
    expect(errorsOf(ack)).toEqual([]);
  });
});
