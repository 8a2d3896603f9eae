import type { Appointment, CarePlan } from 'fhir/r4';
import { buildMessageBundle } from '../../../src/mappers/message/build-message';
import { meetingEntries, updateReason } from '../../../src/mappers/planning-meeting-appointment';
import { meetingLetter } from '../../../src/mappers/planning-meeting-care-communication';
import { buildMeetingPlan } from '../../../src/mappers/planning-meeting-plan';
import type { Meeting, MeetingPlan } from '../../../src/mappers/planning-meeting-types';
import { SYSTEM } from '../../../src/mappers/systems';
import { readAppointmentResponse } from '../../../src/planning-meetings/read-answer';
import { createFhirValidator } from '../../../src/validation/fhir-validator';
import { testContext } from '../../helpers/mapping-context';

const meeting: Meeting = {
  id: '0d7a1c52-6b0e-4c1f-9a57-3e2f1b0c9d8e',
  patientCpr: '0101901234',
  organizer: { system: SYSTEM.sor, value: '265161000016004', name: 'Psykiatrisk Center Demo, Afsnit P3' },
  status: 'proposed',
  timeOptions: [
    { start: '2027-06-08T07:00:00.000Z', end: '2027-06-08T08:00:00.000Z' },
    { start: '2027-06-09T11:00:00.000Z', end: '2027-06-09T12:00:00.000Z' },
  ],
  onlineLink: 'https://video.example.dk/moede/p3-4711',
  version: 1,
  participants: [
    { role: 'gp', party: { system: SYSTEM.sor, value: '481101000016000', name: 'Lægerne' }, status: 'accepted' },
    {
      role: 'caseworker',
      party: { system: SYSTEM.municipality, value: '0101', name: 'Jobcenter' },
      status: 'not-invited',
      notInvitedReason: 'no consent',
    },
    { role: 'patient', party: { system: SYSTEM.cpr, value: '0101901234' }, status: 'tentative' },
  ],
};
const plan: MeetingPlan = {
  heldAt: '2027-06-08T07:00:00.000Z',
  items: [
    { category: 'medication', description: 'Sertralin 100 mg fortsætter.', owner: 'gp', due: '2027-07-06' },
    { category: 'follow-up', description: 'Ugentlig samtale.', owner: 'care-manager' },
    { category: 'work', description: 'Gradvis tilbagevenden.', owner: 'caseworker', due: '2027-07-01' },
    { category: 'support', description: 'Hjælp til struktur i hverdagen.', owner: 'patient' },
  ],
};
const validator = createFhirValidator();
const errorsIn = (r: unknown) => validator.validate(r).filter((i) => i.severity === 'error' || i.severity === 'fatal');
const message = (content: ReturnType<typeof meetingEntries> | ReturnType<typeof buildMeetingPlan>) =>
  buildMessageBundle({
    document: content,
    event: 'planning-meeting-invitation',
    messageHeaderId: 'a0000000-0000-4000-8000-000000000001',
    bundleId: 'a0000000-0000-4000-8000-000000000002',
    sender: { sor: '265161000016004', name: 'Psykiatrisk Center' },
    receiver: { sor: '0101', system: SYSTEM.municipality, name: 'Jobcenter', endpointAddress: 'http://jc.test' },
    ctx: testContext('2026-11-22T10:00:00Z', 'b0000000'),
  });

describe('planning meeting Appointment', () => {
  it('while proposed carries the options, the link and only invited participants with their answers', () => {
    const { focus, entries } = meetingEntries(meeting, testContext());
    const a: Appointment = focus.resource;
    expect(a.id).toBe(meeting.id);
    expect(a.status).toBe('proposed');
    expect(a.requestedPeriod).toHaveLength(2);
    expect(a.start).toBeUndefined();
    expect(a.extension?.[0]?.valueUrl).toBe(meeting.onlineLink);
    expect(a.participant.map((p) => [p.type?.[0]?.coding?.[0]?.code, p.status])).toEqual([
      ['organizer', 'accepted'],
      ['gp', 'accepted'],
      ['patient', 'tentative'],
    ]);
    expect(JSON.stringify(entries)).not.toContain('Jobcenter');
    expect(errorsIn(message({ focus, entries }))).toEqual([]);
  });

  it('once booked has start and end instead of options', () => {
    const booked = { ...meeting, status: 'booked' as const, booked: meeting.timeOptions[1]!, version: 2 };
    const a = meetingEntries(booked, testContext()).focus.resource;
    expect([a.status, a.start, a.end, a.requestedPeriod]).toEqual([
      'booked',
      '2027-06-09T11:00:00.000Z',
      '2027-06-09T12:00:00.000Z',
      undefined,
    ]);
    expect(updateReason('changed').code).toBe('changed');
  });
});

describe('the agreed plan', () => {
  it('goes whole to health care and the patient', () => {
    const c: CarePlan = buildMeetingPlan(meeting, plan, 'health', testContext()).focus.resource;
    expect(c.activity?.map((a) => a.detail?.code?.coding?.[0]?.code)).toEqual([
      'medication',
      'follow-up',
      'work',
      'support',
    ]);
    expect(errorsIn(message(buildMeetingPlan(meeting, plan, 'health', testContext())))).toEqual([]);
  });

  it('a municipality gets a CarePlan built from the work and support points only', () => {
    const built = buildMeetingPlan(meeting, plan, 'municipality', testContext());
    expect(built.focus.resource.activity?.map((a) => a.detail?.code?.coding?.[0]?.code)).toEqual(['work', 'support']);
    const text = JSON.stringify(built.entries);
    expect(text).not.toContain('Sertralin');
    expect(text).not.toContain('Ugentlig samtale');
    expect(meetingLetter(meeting, { kind: 'plan', plan, audience: 'municipality' }).text).not.toContain('Sertralin');
  });
});

describe('AppointmentResponse reader', () => {
  const now = new Date('2026-12-01T00:00:00Z');
  const base = { resourceType: 'AppointmentResponse', appointment: { reference: `Appointment/${meeting.id}` } };
  it('takes accepted, declined, and tentative with a time', () => {
    expect(readAppointmentResponse({ ...base, participantStatus: 'accepted' }, meeting.id, now)).toEqual({
      status: 'accepted',
    });
    expect(
      readAppointmentResponse(
        {
          ...base,
          participantStatus: 'tentative',
          start: '2027-01-05T10:00:00+01:00',
          end: '2027-01-05T11:00:00+01:00',
        },
        meeting.id,
        now,
      ),
    ).toEqual({
      status: 'tentative',
      proposed: { start: '2027-01-05T09:00:00.000Z', end: '2027-01-05T10:00:00.000Z' },
    });
  });
  it.each([
    [{ ...base, participantStatus: 'needs-action' }, 'AppointmentResponse.participantStatus'],
    [{ ...base, participantStatus: 'accepted', comment: 'hej' }, 'AppointmentResponse.comment'],
    [{ ...base, appointment: { reference: 'Appointment/other' }, participantStatus: 'accepted' }, 'appointment'],
    [{ ...base, participantStatus: 'tentative', start: '2027-01-05' }, 'AppointmentResponse.start'],
    [
      { ...base, participantStatus: 'tentative', start: '2026-01-05T10:00:00Z', end: '2026-01-05T11:00:00Z' },
      'AppointmentResponse.start',
    ],
    [{ resourceType: 'Appointment' }, 'resourceType'],
    [null, 'resourceType'],
  ])('refuses %j naming %s', (body, field) => {
    expect(() => readAppointmentResponse(body, meeting.id, now)).toThrow(expect.objectContaining({ status: 400 }));
    try {
      readAppointmentResponse(body, meeting.id, now);
    } catch (e) {
      expect(JSON.stringify((e as { outcome: unknown }).outcome)).toContain(field);
    }
  });
});
