import type { CarePlan, Patient } from 'fhir/r4';
import type { MappingContext } from './context';
import { narrative } from './narrative';
import { PROFILE, entry, ref, type Entry } from './native-parts';
import { MEETING_ID_SYSTEM, MEETING_ROLE_SYSTEM } from './planning-meeting-appointment';
import {
  CATEGORY_TEXT,
  MUNICIPAL_PLAN_CATEGORIES,
  ROLE_TEXT,
  type Meeting,
  type MeetingPlan,
  type PlanItem,
} from './planning-meeting-types';
import { CANONICAL_BASE, SYSTEM } from './systems';

/**
 * The plan agreed at the planning meeting as a FHIR R4 CarePlan (profile sektorbro-planning-meeting-plan): one
 * activity per agreed point, its category (CodeSystem sektorbro-planning-meeting-plan-category), who does it
 * (performer, by role) and by when. `audience` municipality builds a new CarePlan from the checked points of the
 * categories a municipality may get (work, support: MUNICIPAL_PLAN_CATEGORIES) and nothing else: no medication,
 * no treatment follow-up, no list of what was left out. Pure.
 */
export const PLAN_PROFILE = `${CANONICAL_BASE}/StructureDefinition/sektorbro-planning-meeting-plan`;
export const PLAN_CATEGORY_SYSTEM = `${CANONICAL_BASE}/CodeSystem/sektorbro-planning-meeting-plan-category`;

export type PlanAudience = 'health' | 'municipality' | 'patient';

/** The points an audience gets: all for health care and the patient, work and support for a municipality. */
export function planItemsFor(plan: MeetingPlan, audience: PlanAudience): PlanItem[] {
  return plan.items.filter((i) => audience !== 'municipality' || MUNICIPAL_PLAN_CATEGORIES.includes(i.category));
}

export function buildMeetingPlan(
  meeting: Meeting,
  plan: MeetingPlan,
  audience: PlanAudience,
  ctx: MappingContext,
): { focus: Entry<CarePlan>; entries: Entry[] } {
  const patient = entry<Patient>({
    resourceType: 'Patient',
    id: ctx.newId(),
    meta: { profile: [PROFILE.patient] },
    text: narrative('Patient', `CPR ${meeting.patientCpr}`),
    identifier: [{ system: SYSTEM.cpr, value: meeting.patientCpr }],
  });
  const items = planItemsFor(plan, audience);
  const carePlan = entry<CarePlan>({
    resourceType: 'CarePlan',
    id: ctx.newId(),
    meta: { profile: [PLAN_PROFILE] },
    text: narrative(
      `Aftalt plan fra planlægningsmødet ${plan.heldAt}`,
      ...items.map(
        (i) =>
          `${CATEGORY_TEXT[i.category]}: ${i.description} (${ROLE_TEXT[i.owner]}${i.due ? `, senest ${i.due}` : ''})`,
      ),
    ),
    identifier: [{ system: MEETING_ID_SYSTEM, value: meeting.id }],
    status: 'active',
    intent: 'plan',
    title: 'Plan aftalt på planlægningsmødet før udskrivelse',
    subject: ref(patient),
    period: { start: plan.heldAt },
    created: ctx.now.toISOString(),
    activity: items.map((i) => ({
      detail: {
        code: { coding: [{ system: PLAN_CATEGORY_SYSTEM, code: i.category, display: CATEGORY_TEXT[i.category] }] },
        status: 'not-started',
        description: i.description,
        performer: [
          {
            identifier: { system: MEETING_ROLE_SYSTEM, value: i.owner === 'hospital' ? 'organizer' : i.owner },
            display: ROLE_TEXT[i.owner],
          },
        ],
        ...(i.due ? { scheduledPeriod: { end: i.due } } : {}),
      },
    })),
  });
  return { focus: carePlan, entries: [carePlan, patient] };
}
