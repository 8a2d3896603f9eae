import type { Sector } from '../consent/evaluate-consent';

/**
 * Every kind of message the gateway stores (`messages.kind`) and every fact about it, in one table. Code that
 * needs a fact about a kind reads it here, so adding a kind is adding a row: the compiler then names every
 * place that must say something about it (`Record<MessageKind, …>`), and test/unit/messages/message-kinds.test.ts
 * checks each row against profiles/ and policy/.
 */
export interface MessageKindFacts {
  /**
   * MessageHeader.eventCoding of the gateway's own message (CodeSystem sektorbro-message-events), or null for
   * MedCom messages passed on as they came (their event is `medcomEvent`).
   */
  readonly event: { readonly code: string; readonly display: string } | null;
  /** The data class the message is (CodeSystem sektorbro-data-class): what a consent must cover. */
  readonly dataClass: string;
  /** Purpose of use when the message records none (v3 ActReason TREAT or CodeSystem sektorbro-purpose). */
  readonly purpose: string;
  /** What the patient's disclosure page calls it (AuditEvent.entity.name is the kind). */
  readonly label: { readonly da: string; readonly en: string };
  /** The SubscriptionTopic that raises an event for it (src/subscriptions/topics.ts), if any. */
  readonly topic: TopicId | null;
  /** HL7 v2 MSH-9 (message type, and trigger where it decides) that arrive as this kind. */
  readonly hl7: ReadonlyArray<{ readonly type: string; readonly trigger?: string }>;
  /** What a delivery of it does besides the audit: `task-received` marks its status-report Task received. */
  readonly onDelivered: 'task-received' | null;
  /** The MedCom message it is (or is converted to for a MedCom recipient), where one exists. */
  readonly medcomEvent: 'care-communication-message' | 'hospital-notification-message' | null;
  /** The sender → recipient sectors it travels between: each has a policy rule of its own (not the catch-all). */
  readonly travels: ReadonlyArray<{ readonly from: Sector; readonly to: Sector }>;
}

/** The SubscriptionTopics (their last URL segment). */
export type TopicId = 'clinical-document' | 'encounter-notification' | 'status-report-request' | 'symptom-report-alert';

const HEALTH_TO_HEALTH = [{ from: 'health', to: 'health' }] as const;

export const MESSAGE_KINDS = {
  'discharge-letter': {
    event: { code: 'discharge-letter', display: 'Discharge letter' },
    dataClass: 'discharge-letter',
    purpose: 'TREAT',
    label: { da: 'Et udskrivningsbrev', en: 'A discharge letter' },
    topic: 'clinical-document',
    hl7: [{ type: 'MDM' }, { type: 'ORU' }],
    onDelivered: null,
    medcomEvent: 'care-communication-message',
    travels: HEALTH_TO_HEALTH,
  },
  'clinical-document': {
    event: { code: 'clinical-document', display: 'Clinical document for the own GP' },
    dataClass: 'clinical-document',
    purpose: 'TREAT',
    label: { da: 'Et klinisk notat eller dokument', en: 'A clinical note or document' },
    topic: 'clinical-document',
    hl7: [],
    onDelivered: null,
    medcomEvent: 'care-communication-message',
    travels: HEALTH_TO_HEALTH,
  },
  'admission-notification': {
    event: { code: 'admission-notification', display: 'Admission notification' },
    dataClass: 'encounter-notification',
    purpose: 'TREAT',
    label: { da: 'Besked om, at du blev indlagt', en: 'A notice that you were admitted' },
    topic: 'encounter-notification',
    hl7: [{ type: 'ADT', trigger: 'A01' }],
    onDelivered: null,
    medcomEvent: 'hospital-notification-message',
    travels: [
      { from: 'health', to: 'health' },
      { from: 'health', to: 'municipality' },
    ],
  },
  'discharge-notification': {
    event: { code: 'discharge-notification', display: 'Discharge notification' },
    dataClass: 'encounter-notification',
    purpose: 'TREAT',
    label: { da: 'Besked om, at du blev udskrevet', en: 'A notice that you were discharged' },
    topic: 'encounter-notification',
    hl7: [{ type: 'ADT', trigger: 'A03' }],
    onDelivered: null,
    medcomEvent: 'hospital-notification-message',
    travels: [
      { from: 'health', to: 'health' },
      { from: 'health', to: 'municipality' },
    ],
  },
  'status-report-request': {
    event: { code: 'status-report-request', display: 'Status-report request' },
    dataClass: 'status-report-request',
    purpose: 'sickness-benefit-follow-up',
    label: { da: 'En anmodning om en statusattest', en: 'A request for a status report' },
    topic: 'status-report-request',
    hl7: [],
    onDelivered: 'task-received',
    medcomEvent: null,
    travels: [{ from: 'municipality', to: 'health' }],
  },
  'status-report': {
    event: { code: 'status-report-response', display: 'Status report' },
    dataClass: 'status-report',
    purpose: 'sickness-benefit-follow-up',
    label: { da: 'En statusattest (lægens svar)', en: "A status report (the doctor's answer)" },
    topic: null,
    hl7: [],
    onDelivered: null,
    medcomEvent: null,
    travels: [{ from: 'health', to: 'municipality' }],
  },
  'status-report-update': {
    event: { code: 'status-report-update', display: 'Status-report request update' },
    dataClass: 'status-report-request',
    purpose: 'sickness-benefit-follow-up',
    label: {
      da: 'En påmindelse eller ændring om en anmodning om statusattest',
      en: 'A reminder or change about a request for a status report',
    },
    topic: null,
    hl7: [],
    onDelivered: null,
    medcomEvent: null,
    // A follow-up or reminder to the practice; a withdrawal or overdue notice to the jobcentre.
    travels: [
      { from: 'municipality', to: 'health' },
      { from: 'health', to: 'municipality' },
    ],
  },
  'sick-leave-certificate': {
    event: { code: 'sick-leave-certificate', display: 'Sick-leave certificate' },
    dataClass: 'sick-leave-certificate',
    purpose: 'sickness-benefit-follow-up',
    label: { da: 'En sygemelding (lægeerklæring)', en: 'A sick-leave certificate' },
    topic: null,
    hl7: [],
    onDelivered: null,
    medcomEvent: null,
    travels: [
      { from: 'health', to: 'municipality' },
      { from: 'health', to: 'employer' },
    ],
  },
  'sick-leave-cancellation': {
    // Sent as a sick-leave certificate whose document is entered-in-error, with the reason on the header.
    event: { code: 'sick-leave-certificate', display: 'Sick-leave certificate' },
    dataClass: 'sick-leave-minimal',
    purpose: 'sickness-benefit-follow-up',
    label: { da: 'En tilbagekaldelse af en sygemelding', en: 'A withdrawal of a sick-leave certificate' },
    topic: null,
    hl7: [],
    onDelivered: null,
    medcomEvent: null,
    travels: [
      { from: 'health', to: 'municipality' },
      { from: 'health', to: 'employer' },
    ],
  },
  'symptom-report-alert': {
    event: { code: 'symptom-report-alert', display: 'Symptom report alert' },
    dataClass: 'symptom-report',
    purpose: 'TREAT',
    label: {
      da: 'En alarm fra din symptomrapport (score, udvikling og svaret, der udløste den)',
      en: 'An alert from your symptom report (score, trend and the answer that fired it)',
    },
    topic: 'symptom-report-alert',
    hl7: [],
    onDelivered: null,
    medcomEvent: null,
    travels: HEALTH_TO_HEALTH,
  },
  'care-communication': {
    event: null,
    dataClass: 'clinical-document',
    purpose: 'TREAT',
    label: { da: 'En korrespondancemeddelelse (MedCom)', en: 'A care communication (MedCom)' },
    topic: null,
    hl7: [],
    onDelivered: null,
    medcomEvent: 'care-communication-message',
    travels: HEALTH_TO_HEALTH,
  },
  'hospital-notification': {
    event: null,
    dataClass: 'encounter-notification',
    purpose: 'TREAT',
    label: {
      da: 'Besked fra sygehuset om indlæggelse eller udskrivning (MedCom)',
      en: 'A notice from the hospital of admission or discharge (MedCom)',
    },
    topic: null,
    hl7: [],
    onDelivered: null,
    medcomEvent: 'hospital-notification-message',
    travels: [
      { from: 'health', to: 'health' },
      { from: 'health', to: 'municipality' },
    ],
  },
  'planning-meeting-invitation': {
    event: { code: 'planning-meeting-invitation', display: 'Planning meeting invitation' },
    dataClass: 'treatment-plan-outline',
    purpose: 'TREAT',
    label: {
      da: 'Invitation til et planlægningsmøde før din udskrivning',
      en: 'An invitation to a planning meeting before your discharge',
    },
    topic: null,
    hl7: [],
    onDelivered: null,
    // A MedCom receiver gets it as a CareCommunication (category carecoordination).
    medcomEvent: 'care-communication-message',
    // To the GP and the care manager; to the municipal caseworker where the patient's consent allows it.
    travels: [
      { from: 'health', to: 'health' },
      { from: 'health', to: 'municipality' },
    ],
  },
  'planning-meeting-update': {
    event: { code: 'planning-meeting-update', display: 'Planning meeting update' },
    dataClass: 'treatment-plan-outline',
    purpose: 'TREAT',
    label: {
      da: 'Bekræftelse, ændring, aflysning eller påmindelse om planlægningsmødet',
      en: 'A confirmation, change, cancellation or reminder of the planning meeting',
    },
    topic: null,
    hl7: [],
    onDelivered: null,
    // A MedCom receiver gets it as a CareCommunication (category carecoordination).
    medcomEvent: 'care-communication-message',
    // To the GP and the care manager; to the municipal caseworker where the patient's consent allows it.
    travels: [
      { from: 'health', to: 'health' },
      { from: 'health', to: 'municipality' },
    ],
  },
  'planning-meeting-plan': {
    event: { code: 'planning-meeting-plan', display: 'Planning meeting plan' },
    dataClass: 'treatment-plan-outline',
    purpose: 'TREAT',
    label: {
      da: 'Planen, der blev aftalt på planlægningsmødet (for kommunen kun arbejds- og støttepunkterne)',
      en: 'The plan agreed at the planning meeting (for the municipality only its work and support points)',
    },
    topic: null,
    hl7: [],
    onDelivered: null,
    // A MedCom receiver gets it as a CareCommunication (category carecoordination).
    medcomEvent: 'care-communication-message',
    // To the GP and the care manager; to the municipal caseworker where the patient's consent allows it.
    travels: [
      { from: 'health', to: 'health' },
      { from: 'health', to: 'municipality' },
    ],
  },
} as const satisfies Record<string, MessageKindFacts>;

export type MessageKind = keyof typeof MESSAGE_KINDS;

/** The kinds the gateway builds itself, with its own MessageHeader event (all but MedCom messages passed on). */
export type OwnEventKind = {
  [K in MessageKind]: (typeof MESSAGE_KINDS)[K]['event'] extends null ? never : K;
}[MessageKind];

/** The gateway's own event codes (MessageHeader.eventCoding.code, sektorbro-message-events). */
export type MessageEvent = NonNullable<(typeof MESSAGE_KINDS)[MessageKind]['event']>['code'];

export const MESSAGE_KIND_NAMES = Object.keys(MESSAGE_KINDS) as MessageKind[];

export function kindFacts(kind: MessageKind): MessageKindFacts {
  return MESSAGE_KINDS[kind];
}

export function isMessageKind(value: string): value is MessageKind {
  return Object.hasOwn(MESSAGE_KINDS, value);
}

/** The display of a gateway event code (MessageHeader.eventCoding.display). */
export function eventDisplay(event: MessageEvent): string {
  return MESSAGE_KIND_NAMES.map((k) => kindFacts(k).event).find((e) => e?.code === event)?.display ?? event;
}

/** The kinds a SubscriptionTopic raises events for, in table order. */
export function kindsOfTopic(topic: TopicId): MessageKind[] {
  return MESSAGE_KIND_NAMES.filter((k) => kindFacts(k).topic === topic);
}

/** The kind an HL7 v2 message arrives as (MSH-9 message type and trigger), if any takes it. */
export function kindOfHl7(type: string, trigger: string): MessageKind | undefined {
  return MESSAGE_KIND_NAMES.find((k) =>
    kindFacts(k).hl7.some((t) => t.type === type && (t.trigger === undefined || t.trigger === trigger)),
  );
}
