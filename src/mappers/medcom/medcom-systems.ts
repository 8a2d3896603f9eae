/**
 * MedCom canonicals the gateway emits, per the package stack each standard was built on (see
 * profiles/README.md "MedCom"): CareCommunication 5.0.x on messaging 4.0.x, HospitalNotification 3.0.x and
 * Acknowledgement 2.0.x on messaging 2.1.0. The code systems are the same in every terminology version used.
 */
const IG = 'http://medcomfhir.dk/ig';

export const MEDCOM_SYSTEM = {
  eventCodes: `${IG}/terminology/CodeSystem/medcom-messaging-eventCodes`,
  activityCodes: `${IG}/terminology/CodeSystem/medcom-messaging-activityCodes`,
  destinationUse: `${IG}/terminology/CodeSystem/medcom-messaging-destinationUse`,
  careCommunicationCategory: `${IG}/terminology/CodeSystem/medcom-careCommunication-categoryCodes`,
  acknowledgementErrorCodes: `${IG}/terminology/CodeSystem/medcom-acknowledgement-error-codes`,
  /** dk-core up to 3.4.0 and MedCom's stacks; dk-core 3.5.0 moved to http://www.gs1.org/gln (accepted on input). */
  gln: 'https://www.gs1.org/gln',
  sor: 'urn:oid:1.2.208.176.1.1',
  cpr: 'urn:oid:1.2.208.176.1.2',
} as const;

export const MEDCOM_EXTENSION = {
  destinationUse: `${IG}/messaging/StructureDefinition/medcom-messaging-destinationUseExtension`,
  datetime: `${IG}/core/StructureDefinition/medcom-core-datetime-extension`,
  practitioner: `${IG}/core/StructureDefinition/medcom-core-practitioner-extension`,
  contact: `${IG}/core/StructureDefinition/medcom-core-contact-extension`,
  identifier: `${IG}/core/StructureDefinition/medcom-core-identifier-extension`,
} as const;

/** MedCom message types (MessageHeader.eventCoding, and Endpoint.payloadType of a MedCom receiver). */
export type MedComEvent = 'care-communication-message' | 'hospital-notification-message' | 'acknowledgement-message';

export const MEDCOM_PROFILE = {
  careCommunication: {
    message: `${IG}/carecommunication/StructureDefinition/medcom-careCommunication-message`,
    messageHeader: `${IG}/carecommunication/StructureDefinition/medcom-careCommunication-messageHeader`,
    communication: `${IG}/carecommunication/StructureDefinition/medcom-careCommunication-communication`,
    provenance: `${IG}/carecommunication/StructureDefinition/medcom-careCommunication-provenance`,
    organization: `${IG}/messaging/StructureDefinition/medcom-messaging-organization`,
    patient: `${IG}/core/StructureDefinition/medcom-core-patient`,
    practitioner: `${IG}/core/StructureDefinition/medcom-core-practitioner`,
    practitionerRole: `${IG}/core/StructureDefinition/medcom-core-practitionerrole`,
    /** MessageHeader.definition: the MessageDefinition of CareCommunication 5.0. */
    definition: `${IG}/messagedefinitions/MessageDefinition/MedComCareCommunicationMessageDefinition|5.0`,
  },
  hospitalNotification: {
    message: `${IG}/hospitalnotification/StructureDefinition/medcom-hospitalNotification-message`,
    messageHeader: `${IG}/hospitalnotification/StructureDefinition/medcom-hospitalNotification-messageHeader`,
    encounter: `${IG}/hospitalnotification/StructureDefinition/medcom-hospitalNotification-encounter`,
    provenance: `${IG}/messaging/StructureDefinition/medcom-messaging-provenance`,
    organization: `${IG}/messaging/StructureDefinition/medcom-messaging-organization`,
    patient: `${IG}/core/StructureDefinition/medcom-core-patient`,
  },
  acknowledgement: {
    message: `${IG}/acknowledgement/StructureDefinition/medcom-messaging-acknowledgement`,
    messageHeader: `${IG}/acknowledgement/StructureDefinition/medcom-messaging-acknowledgementHeader`,
    operationOutcome: `${IG}/acknowledgement/StructureDefinition/medcom-acknowledgement-operationoutcome`,
    provenance: `${IG}/messaging/StructureDefinition/medcom-messaging-provenance`,
    organization: `${IG}/messaging/StructureDefinition/medcom-messaging-organization`,
    definition: `${IG}/messagedefinitions/MessageDefinition/MedComAcknowledgementMessageDefinition|2.0`,
  },
} as const;
