/**
 * Identifier and code systems the gateway speaks. Values come from HL7 Denmark dk-core and MedCom
 * (see ../shared/DESIGN.md "Standards to speak"); gateway-owned canonicals live under CANONICAL_BASE.
 */
export const CANONICAL_BASE = 'http://sektorbro.dk/fhir';

export const SYSTEM = {
  cpr: 'urn:oid:1.2.208.176.1.2',
  replacementCpr: 'urn:oid:1.2.208.176.1.6.1.1',
  sor: 'urn:oid:1.2.208.176.1.1',
  ydernummer: 'urn:oid:1.2.208.176.1.4',
  gln: 'http://www.gs1.org/gln',
  glnLegacy: 'https://www.gs1.org/gln',
  cvr: 'http://cvr.dk',
  municipality: 'http://hl7.dk/fhir/core/CodeSystem/dk-core-municipality-codes',
  loinc: 'http://loinc.org',
  icd10: 'http://hl7.org/fhir/sid/icd-10',
  atc: 'http://www.whocc.no/atc',
  endpointConnectionType: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type',
  provenanceActivity: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation',
  messageEvents: `${CANONICAL_BASE}/CodeSystem/sektorbro-message-events`,
  medicationChange: `${CANONICAL_BASE}/CodeSystem/sektorbro-medication-change`,
  responsibleParty: `${CANONICAL_BASE}/CodeSystem/sektorbro-responsible-party`,
  documentSection: `${CANONICAL_BASE}/CodeSystem/sektorbro-document-section`,
  gatewayTags: `${CANONICAL_BASE}/CodeSystem/sektorbro-tags`,
  /** The gateway's API clients (operators), in AuditEvent.agent. */
  apiClient: `${CANONICAL_BASE}/NamingSystem/api-client`,
  messageId: `${CANONICAL_BASE}/NamingSystem/message-id`,
  /** A whole sector as a consent actor: value health | municipality | employer. */
  sector: `${CANONICAL_BASE}/NamingSystem/sector`,
  dataClass: `${CANONICAL_BASE}/CodeSystem/sektorbro-data-class`,
  purpose: `${CANONICAL_BASE}/CodeSystem/sektorbro-purpose`,
  actReason: 'http://terminology.hl7.org/CodeSystem/v3-ActReason',
  resourceTypes: 'http://hl7.org/fhir/resource-types',
  documentId: `${CANONICAL_BASE}/NamingSystem/document-id`,
  taskId: `${CANONICAL_BASE}/NamingSystem/task-id`,
  certificateTypes: `${CANONICAL_BASE}/CodeSystem/sektorbro-certificate-types`,
  taskNotification: `${CANONICAL_BASE}/CodeSystem/sektorbro-task-notification`,
  /** Patient extension: the municipal care (hjemmepleje, hjemmesygepleje) the patient receives, and from whom. */
  municipalCare: `${CANONICAL_BASE}/StructureDefinition/municipal-care`,
  municipalCareService: `${CANONICAL_BASE}/CodeSystem/sektorbro-municipal-care-service`,
  /** SDC's Task codes for "complete this questionnaire" (input questionnaire, output questionnaire-response). */
  sdcTaskCodes: 'http://hl7.org/fhir/uv/sdc/CodeSystem/temp',
} as const;

/** LOINC codes of the discharge-summary family that POST /discharge-letters accepts. */
export const DISCHARGE_SUMMARY_LOINC = ['18842-5', '28655-9', '11490-0', '34105-7'] as const;
