import type { Bundle } from 'fhir/r4';
import { buildCareCommunication } from '../../../src/mappers/medcom/care-communication';
import {
  MEETING_CARE_COMMUNICATION_CATEGORY,
  meetingLetter,
  type MeetingLetter,
} from '../../../src/mappers/planning-meeting-care-communication';
import type { Meeting } from '../../../src/mappers/planning-meeting-types';
import { SYSTEM } from '../../../src/mappers/systems';
import { testContext } from '../../helpers/mapping-context';
import { validateMedComMessage } from './medcom-validator';

/**
 * The planning meeting's MedCom-bound output (issue 18): the invitation, each update and the agreed plan as
 * CareCommunication 5.0.2, category carecoordination, validate against MedCom's own packages in ../shared/medcom.
 */
const meeting: Meeting = {
  id: '0d7a1c52-6b0e-4c1f-9a57-3e2f1b0c9d8e',
  patientCpr: '0101901234',
  organizer: { system: SYSTEM.sor, value: '265161000016004', name: 'Psykiatrisk Center Demo, Afsnit P3' },
  status: 'booked',
  timeOptions: [
    { start: '2027-06-08T07:00:00.000Z', end: '2027-06-08T08:00:00.000Z' },
    { start: '2027-06-09T11:00:00.000Z', end: '2027-06-09T12:00:00.000Z' },
  ],
  booked: { start: '2027-06-08T07:00:00.000Z', end: '2027-06-08T08:00:00.000Z' },
  onlineLink: 'https://video.example.dk/moede/p3-4711',
  version: 2,
  participants: [
    {
      role: 'gp',
      party: { system: SYSTEM.sor, value: '481101000016000', name: 'Lægerne på Torvet' },
      status: 'accepted',
    },
    {
      role: 'caseworker',
      party: { system: SYSTEM.municipality, value: '0101', name: 'Jobcenter' },
      status: 'tentative',
    },
    { role: 'patient', party: { system: SYSTEM.cpr, value: '0101901234' }, status: 'needs-action' },
  ],
};

function letter(l: MeetingLetter): Bundle {
  const { topic, text } = meetingLetter(meeting, l);
  return buildCareCommunication(
    {
      messageHeaderId: '6f1f2b70-0000-4000-8000-000000000011',
      bundleId: '6f1f2b70-0000-4000-8000-000000000012',
      sender: { sor: '265161000016004', gln: '5790000209354', name: 'Psykiatrisk Center Demo, Afsnit P3' },
      receiver: { sor: '481101000016000', gln: '5790001348120', name: 'Lægerne på Torvet', endpoint: 'http://gp.test' },
      patient: { cpr: '0101901234', name: { family: 'Jensen', given: ['Jens'] } },
      category: MEETING_CARE_COMMUNICATION_CATEGORY,
      topic,
      text,
      attachments: [],
      author: { name: 'Anne Holm', role: 'overlæge', contact: { system: 'phone', value: '38643864' } },
      writtenAt: '2026-12-03T10:00:00Z',
    },
    testContext('2026-12-03T10:00:00Z', '5f000000'),
  );
}

describe('planning-meeting CareCommunications validate against MedCom CareCommunication 5.0.2', () => {
  it.each<[string, MeetingLetter]>([
    ['invitation', { kind: 'invitation' }],
    ['confirmation', { kind: 'update', update: 'confirmed' }],
    ['change', { kind: 'update', update: 'changed' }],
    ['cancellation', { kind: 'update', update: 'cancelled' }],
    ['reminder', { kind: 'update', update: 'reminder' }],
    [
      'plan',
      {
        kind: 'plan',
        audience: 'health',
        plan: {
          heldAt: '2027-06-08T07:00:00.000Z',
          items: [
            { category: 'medication', description: 'Sertralin 100 mg fortsætter.', owner: 'gp', due: '2027-07-06' },
            { category: 'work', description: 'Gradvis tilbagevenden.', owner: 'caseworker' },
          ],
        },
      },
    ],
  ])('%s', (_name, l) => {
    const bundle = letter(l);
    expect(validateMedComMessage(bundle).map((i) => i.diagnostics ?? '')).toEqual([]);
  });
});
