import type { Bundle } from 'fhir/r4';
import { SYSTEM } from '../../src/mappers/systems';

/** SORs and CPRs of the test directory; the CPRs are fictitious. */
export const HOSPITAL_SOR = '265161000016004';
export const GP_SOR = '481101000016000';
export const OTHER_GP_SOR = '481201000016008';
export const NO_ENDPOINT_GP_SOR = '481301000016001';
export const PATIENT_CPR = '0101901234';
export const PATIENT_WITHOUT_GP_CPR = '0202902345';
export const PATIENT_OF_GP_WITHOUT_ENDPOINT_CPR = '0303903456';
/** The demo jobcentre's municipality (the demo jobcentre client acts for it). */
export const JOBCENTRE_MUNICIPALITY = '0101';
/** The demo employer's CVR number. */
export const EMPLOYER_CVR = '12345678';

/** GLNs (valid GS1 check digits, fictitious) of the hospital department and the GP in a MedCom directory. */
export const HOSPITAL_GLN = '5790000123452';
export const GP_GLN = '5790000543212';

/** Endpoint.payloadType of a GP system that speaks MedCom and the gateway's status-report messages. */
export const MEDCOM_GP_PAYLOAD_TYPES = [
  ...['care-communication-message', 'hospital-notification-message', 'acknowledgement-message'].map((code) => ({
    coding: [{ system: 'http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-eventCodes', code }],
  })),
  ...['status-report-request', 'status-report-update'].map((code) => ({
    coding: [{ system: SYSTEM.messageEvents, code }],
  })),
];

/** An address carrying the dk-core municipality code, as the directory (and the CPR register) has it. */
export function municipalityAddress(code: string) {
  return {
    extension: [
      {
        url: 'http://hl7.dk/fhir/core/StructureDefinition/dk-core-municipalityCodes',
        valueCodeableConcept: { coding: [{ system: SYSTEM.municipality, code }] },
      },
    ],
    city: 'Testby',
  };
}

/** A transaction Bundle: a hospital, three GP practices (one without endpoint) and three patients. */
export function directoryBundle(
  gpAddress: string,
  options: {
    connectionType?: 'hl7-fhir-msg' | 'hl7-fhir-rest';
    otherGpAddress?: string;
    jobcentreAddress?: string;
    employerAddress?: string;
    /** The hospital and the GP carry GLNs, the hospital a phone, the GP's endpoint takes MedCom messages. */
    medcom?: boolean;
    /** Where the hospital department receives (replies to its CareCommunications), if anywhere. */
    hospitalAddress?: string;
  } = {},
): Bundle {
  const org = (id: string, sor: string, name: string, endpoint?: string) => ({
    fullUrl: `urn:uuid:${id}`,
    resource: {
      resourceType: 'Organization',
      identifier: [{ system: SYSTEM.sor, value: sor }],
      name,
      active: true,
      ...(endpoint ? { endpoint: [{ reference: `urn:uuid:${endpoint}` }] } : {}),
    },
    request: { method: 'PUT', url: `Organization?identifier=${SYSTEM.sor}|${sor}` },
  });
  const endpoint = (id: string, address: string, managing: string, type = 'hl7-fhir-msg') => ({
    fullUrl: `urn:uuid:${id}`,
    resource: {
      resourceType: 'Endpoint',
      status: 'active',
      connectionType: { system: SYSTEM.endpointConnectionType, code: type },
      payloadType: [{ text: 'FHIR message' }],
      address,
      managingOrganization: { reference: `urn:uuid:${managing}` },
    },
    request: { method: 'POST', url: 'Endpoint' },
  });
  const patient = (cpr: string, gp?: string, municipality?: string) => ({
    resource: {
      resourceType: 'Patient',
      identifier: [{ system: SYSTEM.cpr, value: cpr }],
      name: [{ family: 'Testesen', given: ['Test'] }],
      ...(gp ? { generalPractitioner: [{ reference: `urn:uuid:${gp}` }] } : {}),
      ...(municipality ? { address: [municipalityAddress(municipality)] } : {}),
    },
    request: { method: 'PUT', url: `Patient?identifier=${SYSTEM.cpr}|${cpr}` },
  });
  const bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      org('11111111-1111-4111-8111-111111111111', HOSPITAL_SOR, 'Psykiatrisk Center Testby'),
      org('22222222-2222-4222-8222-222222222222', GP_SOR, 'Lægerne i Testby', '44444444-4444-4444-8444-444444444444'),
      org('33333333-3333-4333-8333-333333333333', OTHER_GP_SOR, 'Lægehuset Andenby'),
      org('55555555-5555-4555-8555-555555555555', NO_ENDPOINT_GP_SOR, 'Lægen uden endpoint'),
      endpoint(
        '44444444-4444-4444-8444-444444444444',
        gpAddress,
        '22222222-2222-4222-8222-222222222222',
        options.connectionType,
      ),
      endpoint(
        '66666666-6666-4666-8666-666666666666',
        options.otherGpAddress ?? `${gpAddress}/other`,
        '33333333-3333-4333-8333-333333333333',
      ),
      {
        fullUrl: 'urn:uuid:77777777-7777-4777-8777-777777777777',
        resource: {
          resourceType: 'Organization',
          identifier: [{ system: SYSTEM.municipality, value: JOBCENTRE_MUNICIPALITY }],
          type: [{ coding: [{ system: SYSTEM.sector, code: 'municipality' }] }],
          name: 'Jobcenter Testby',
          active: true,
          endpoint: [{ reference: 'urn:uuid:88888888-8888-4888-8888-888888888888' }],
        },
        request: { method: 'PUT', url: `Organization?identifier=${SYSTEM.municipality}|${JOBCENTRE_MUNICIPALITY}` },
      },
      endpoint(
        '88888888-8888-4888-8888-888888888888',
        options.jobcentreAddress ?? `${gpAddress}/jobcentre`,
        '77777777-7777-4777-8777-777777777777',
      ),
      {
        fullUrl: 'urn:uuid:99999999-9999-4999-8999-999999999999',
        resource: {
          resourceType: 'Organization',
          identifier: [{ system: SYSTEM.cvr, value: EMPLOYER_CVR }],
          type: [{ coding: [{ system: SYSTEM.sector, code: 'employer' }] }],
          name: 'Testfirma ApS',
          active: true,
        },
        request: { method: 'PUT', url: `Organization?identifier=${SYSTEM.cvr}|${EMPLOYER_CVR}` },
      },
      endpoint(
        'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa',
        options.employerAddress ?? `${gpAddress}/employer`,
        '99999999-9999-4999-8999-999999999999',
      ),
      patient(PATIENT_CPR, '22222222-2222-4222-8222-222222222222', JOBCENTRE_MUNICIPALITY),
      patient(PATIENT_WITHOUT_GP_CPR),
      patient(PATIENT_OF_GP_WITHOUT_ENDPOINT_CPR, '55555555-5555-4555-8555-555555555555'),
    ],
  } as Bundle;
  if (options.medcom) {
    const resource = (id: string) =>
      bundle.entry?.find((e) => e.fullUrl === `urn:uuid:${id}`)?.resource as unknown as Record<string, unknown> & {
        identifier: unknown[];
      };
    const hospital = resource('11111111-1111-4111-8111-111111111111');
    hospital.identifier.push({ system: 'https://www.gs1.org/gln', value: HOSPITAL_GLN });
    hospital.telecom = [{ system: 'phone', value: '38643864', use: 'work' }];
    // the GP's GLN under dk-core 3.5.0's system URI: both are taken on input
    resource('22222222-2222-4222-8222-222222222222').identifier.push({ system: SYSTEM.gln, value: GP_GLN });
    resource('44444444-4444-4444-8444-444444444444').payloadType = MEDCOM_GP_PAYLOAD_TYPES;
    if (options.hospitalAddress) {
      hospital.endpoint = [{ reference: 'urn:uuid:bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb' }];
      const hospitalEndpoint = endpoint(
        'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb',
        options.hospitalAddress,
        '11111111-1111-4111-8111-111111111111',
      );
      hospitalEndpoint.resource.payloadType = MEDCOM_GP_PAYLOAD_TYPES.slice(0, 3) as never;
      bundle.entry?.push(hospitalEndpoint as never);
    }
  }
  return bundle;
}

/** The municipal home-care unit of the test directory (fictitious SOR and GLN; MedCom HospitalNotification receiver). */
export const HOME_CARE_SOR = '953741000016009';
export const HOME_CARE_GLN = '5790000987658';

/**
 * A transaction Bundle to load after `directoryBundle(…, { medcom: true })`: the home-care unit of the patient's
 * municipality (SOR, GLN, municipality code, sector municipality) with a MedCom endpoint at `address`, and the
 * patient PATIENT_CPR, still listed with the GP, now receiving hjemmepleje from that unit (the Patient extension
 * municipal-care, its provider named by the unit's fullUrl).
 */
export function municipalCareBundle(address: string, options: { period?: { start?: string; end?: string } } = {}) {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      {
        fullUrl: 'urn:uuid:cccccccc-cccc-4ccc-8ccc-cccccccccccc',
        resource: {
          resourceType: 'Organization',
          identifier: [
            { system: SYSTEM.sor, value: HOME_CARE_SOR },
            { system: SYSTEM.gln, value: HOME_CARE_GLN },
            { system: SYSTEM.municipality, value: JOBCENTRE_MUNICIPALITY },
          ],
          type: [{ coding: [{ system: SYSTEM.sector, code: 'municipality' }] }],
          name: 'Hjemmeplejen Testby',
          active: true,
          endpoint: [{ reference: 'urn:uuid:dddddddd-dddd-4ddd-8ddd-dddddddddddd' }],
        },
        request: { method: 'PUT', url: `Organization?identifier=${SYSTEM.sor}|${HOME_CARE_SOR}` },
      },
      {
        fullUrl: 'urn:uuid:dddddddd-dddd-4ddd-8ddd-dddddddddddd',
        resource: {
          resourceType: 'Endpoint',
          status: 'active',
          connectionType: { system: SYSTEM.endpointConnectionType, code: 'hl7-fhir-msg' },
          payloadType: MEDCOM_GP_PAYLOAD_TYPES.slice(1, 3),
          address,
          managingOrganization: { reference: 'urn:uuid:cccccccc-cccc-4ccc-8ccc-cccccccccccc' },
        },
        request: { method: 'POST', url: 'Endpoint' },
      },
      {
        resource: {
          resourceType: 'Patient',
          identifier: [{ system: SYSTEM.cpr, value: PATIENT_CPR }],
          name: [{ use: 'official', family: 'Testesen', given: ['Test'] }],
          generalPractitioner: [{ identifier: { system: SYSTEM.sor, value: GP_SOR } }],
          address: [municipalityAddress(JOBCENTRE_MUNICIPALITY)],
          extension: [
            {
              url: SYSTEM.municipalCare,
              extension: [
                { url: 'service', valueCoding: { system: SYSTEM.municipalCareService, code: 'hjemmepleje' } },
                { url: 'provider', valueReference: { reference: 'urn:uuid:cccccccc-cccc-4ccc-8ccc-cccccccccccc' } },
                ...(options.period ? [{ url: 'period', valuePeriod: options.period }] : []),
              ],
            },
          ],
        },
        request: { method: 'PUT', url: `Patient?identifier=${SYSTEM.cpr}|${PATIENT_CPR}` },
      },
    ],
  } as unknown as Bundle;
}
