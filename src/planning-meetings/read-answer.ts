import { errors } from '../errors';
import type { ParticipantStatus, TimeSlot } from '../mappers/planning-meeting-types';

/**
 * Reads a participant's answer, a FHIR R4 AppointmentResponse: `appointment.reference` Appointment/<meeting id>,
 * `participantStatus` accepted | declined | tentative, and for tentative the time it proposes instead
 * (`start`, `end`, in the future, end after start, at most 8 hours). Only these elements (and `id`, `meta`,
 * `actor`, which the gateway takes from the caller's credentials instead) are taken: a `comment` or any other
 * element is a 400, since every participant, the jobcentre too, sees the answers. Throws a 400 naming the field.
 */
const TAKEN = new Set(['resourceType', 'id', 'meta', 'appointment', 'participantStatus', 'start', 'end', 'actor']);

export function readAppointmentResponse(
  body: unknown,
  meetingId: string,
  now: Date,
): { status: Exclude<ParticipantStatus, 'needs-action' | 'not-invited'>; proposed?: TimeSlot } {
  const r = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  if (r.resourceType !== 'AppointmentResponse') {
    throw errors.invalid({
      diagnostics: 'resourceType: must be AppointmentResponse',
      expression: 'resourceType',
      reason: 'invalid-value',
    });
  }
  const extra = Object.keys(r).filter((k) => !TAKEN.has(k));
  if (extra.length > 0) {
    throw errors.invalid(
      ...extra.map((k) => ({
        diagnostics: `AppointmentResponse.${k}: not taken (every participant sees the answers; only participantStatus and a proposed start/end are)`,
        expression: `AppointmentResponse.${k}`,
        reason: 'unexpected-element' as const,
      })),
    );
  }
  const reference = (r.appointment as { reference?: unknown } | undefined)?.reference;
  if (reference !== `Appointment/${meetingId}`) {
    throw errors.invalid({
      diagnostics: `AppointmentResponse.appointment.reference: must be Appointment/${meetingId}`,
      expression: 'AppointmentResponse.appointment.reference',
      reason: reference === undefined ? 'missing-field' : 'invalid-value',
    });
  }
  const status = r.participantStatus;
  if (status !== 'accepted' && status !== 'declined' && status !== 'tentative') {
    throw errors.invalid({
      diagnostics: 'AppointmentResponse.participantStatus: must be accepted, declined or tentative (another time)',
      expression: 'AppointmentResponse.participantStatus',
      reason: status === undefined ? 'missing-field' : 'invalid-value',
    });
  }
  if (status !== 'tentative') {
    return { status };
  }
  const start =
    typeof r.start === 'string' && /^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:\d{2})$/.test(r.start)
      ? Date.parse(r.start)
      : NaN;
  const end =
    typeof r.end === 'string' && /^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:\d{2})$/.test(r.end) ? Date.parse(r.end) : NaN;
  if (Number.isNaN(start) || Number.isNaN(end)) {
    throw errors.invalid({
      diagnostics:
        'AppointmentResponse.start, AppointmentResponse.end: a tentative answer proposes another time (instants with a zone)',
      expression: Number.isNaN(start) ? 'AppointmentResponse.start' : 'AppointmentResponse.end',
      reason: 'missing-field',
    });
  }
  if (end <= start || end - start > 8 * 3600_000 || start <= now.getTime()) {
    throw errors.invalid({
      diagnostics:
        'AppointmentResponse.start, AppointmentResponse.end: the proposed time is in the future, ends after it starts and lasts at most 8 hours',
      expression: 'AppointmentResponse.start',
      reason: 'date-out-of-bounds',
    });
  }
  return { status, proposed: { start: new Date(start).toISOString(), end: new Date(end).toISOString() } };
}
