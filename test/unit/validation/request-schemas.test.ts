import type { Bundle, Composition, MessageHeader, OperationOutcome, Patient } from 'fhir/r4';
import { ROLES } from '../../../src/auth/clients';
import { GatewayError } from '../../../src/errors';
import { checkDischargeLetterCompleteness } from '../../../src/mappers/discharge-letter/completeness';
import { mapFhirDischargeDocument } from '../../../src/mappers/discharge-letter/from-fhir';
import { mapNativeDischargeLetter } from '../../../src/mappers/discharge-letter/from-native';
import type {
  MedicationChange,
  NativeAttachment,
  NativeAuthor,
  NativeClinicalDocument,
  NativeContact,
  NativeDiagnosis,
  NativeDischargeLetter,
  NativeFollowUpActivity,
  NativeMedication,
  NativeOrganization,
  NativePatient,
  ResponsibleParty,
} from '../../../src/mappers/native-types';
import { DISCHARGE_SUMMARY_LOINC, SYSTEM } from '../../../src/mappers/systems';
import { getDefaultValidator } from '../../../src/validation';
import {
  assertValidBody,
  HTTP_METHODS,
  openApiDocument,
  requestExamples,
  type OpenApiOperation,
  type OpenApiResponse,
  type RequestExample,
} from '../../../src/validation/request-schemas';
import { testContext } from '../../helpers/mapping-context';

/**
 * openapi.yaml is both the published contract and what intake validates with, so these tests hold it to
 * both jobs: its examples are valid, its schemas reject bad input with issues that name the field, its
 * schemas say exactly what the TypeScript input types say, and every operation documents its answers.
 */
const doc = openApiDocument();

/** The schema name a request example is validated with: the $ref of its media type. */
function schemaNameOf(example: RequestExample): string {
  const schema = doc.paths[example.path]?.[example.method.toLowerCase()]?.requestBody?.content?.[example.contentType]
    ?.schema as { $ref?: string } | undefined;
  const ref = schema?.$ref ?? '';
  expect(ref).toMatch(/^#\/components\/schemas\//);
  return ref.replace('#/components/schemas/', '');
}

function exampleValue(path: string, contentType: string, name: string): unknown {
  const value = doc.paths[path]?.post?.requestBody?.content?.[contentType]?.examples?.[name]?.value;
  expect(value).toBeDefined();
  return structuredClone(value);
}

/** The 400 that assertValidBody throws, or a failure when it does not throw one. */
function rejection(schemaName: string, body: unknown): OperationOutcome {
  try {
    assertValidBody(schemaName, body);
  } catch (e) {
    expect(e).toBeInstanceOf(GatewayError);
    expect((e as GatewayError).status).toBe(400);
    return (e as GatewayError).outcome;
  }
  throw new Error(`expected ${schemaName} to reject the body`);
}

const issuesOf = (outcome: OperationOutcome) =>
  outcome.issue.map((i) => ({ expression: i.expression?.[0], diagnostics: i.diagnostics }));

const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
  HTTP_METHODS.flatMap((method) => {
    const op = item[method];
    return op ? [{ path, method, op, label: `${method.toUpperCase()} ${path}` }] : [];
  }),
);

function resolveResponse(response: OpenApiResponse): OpenApiResponse {
  if (!response.$ref) {
    return response;
  }
  const resolved = doc.components.responses?.[response.$ref.replace('#/components/responses/', '')];
  expect(resolved).toBeDefined();
  return resolved ?? {};
}

describe('openapi.yaml request examples', () => {
  const examples = requestExamples();

  it('lists the examples of every operation that takes a body', () => {
    const withBody = operations.filter((o) => o.op.requestBody).map((o) => o.label);
    const covered = new Set(examples.map((e) => `${e.method} ${e.path}`));
    expect(withBody.length).toBeGreaterThan(5);
    expect(withBody.filter((label) => !covered.has(label))).toEqual([]);
    expect(examples.every((e) => e.value !== undefined)).toBe(true);
  });

  const json = examples.filter((e) => e.contentType === 'application/json');
  it.each(json.map((e) => [`${e.method} ${e.path} ${e.name}`, e] as const))(
    'application/json example %s validates against its schema',
    (_label, example) => {
      expect(() => {
        assertValidBody(schemaNameOf(example), example.value);
      }).not.toThrow();
    },
  );

  it('has native JSON examples for the document, status-report, certificate and dead-letter routes', () => {
    const names = new Set(json.map(schemaNameOf));
    expect(names).toEqual(
      new Set([
        'NativeDischargeLetter',
        'NativeClinicalDocument',
        'NativeStatusReportRequest',
        'NativeStatusReportAnswer',
        'NativeStatusReportFollowUp',
        'TaskTransition',
        'OperatorReason',
        'BulkReplayRequest',
        'NativeSickLeaveCertificate',
        'CancellationReason',
        'PlanningMeetingRequest',
        'PlanningMeetingBooking',
        'PlanningMeetingPlan',
      ]),
    );
  });

  const fhir = examples.filter((e) => e.contentType === 'application/fhir+json');
  const expected: Record<string, (resource: Bundle & { resourceType: string }) => void> = {
    '/discharge-letters': (b) => {
      expect(b.type).toBe('document');
      const composition = b.entry?.[0]?.resource as Composition;
      expect(composition.resourceType).toBe('Composition');
      const codes = composition.type.coding?.filter((c) => c.system === SYSTEM.loinc).map((c) => c.code);
      expect(codes?.some((c) => (DISCHARGE_SUMMARY_LOINC as readonly (string | undefined)[]).includes(c))).toBe(true);
    },
    '/sick-leave-certificates': (b) => {
      expect(b.type).toBe('document');
      expect(b.entry?.[0]?.resource?.resourceType).toBe('Composition');
    },
    '/send-to-own-gp': (b) => {
      expect(b.type).toBe('document');
      expect(b.entry?.[0]?.resource?.resourceType).toBe('Composition');
    },
    '/fhir': (b) => {
      expect(['batch', 'transaction']).toContain(b.type);
      for (const entry of b.entry ?? []) {
        expect(['Organization', 'Endpoint', 'Patient']).toContain(entry.resource?.resourceType);
        expect(['PUT', 'POST']).toContain(entry.request?.method);
      }
    },
    '/fhir/$process-message': (b) => {
      expect(b.type).toBe('message');
      const header = b.entry?.[0]?.resource as MessageHeader;
      expect(header.resourceType).toBe('MessageHeader');
      if (header.eventCoding?.system === 'http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-eventCodes') {
        // a MedCom message for the gateway to route (answered with a MedCom Acknowledgement), not an acknowledgement
        expect(['care-communication-message', 'hospital-notification-message']).toContain(header.eventCoding.code);
        expect(header.response).toBeUndefined();
        return;
      }
      expect(header.response?.identifier).toBeTruthy();
      expect(['ok', 'transient-error', 'fatal-error']).toContain(header.response?.code);
    },
  };
  it.each(fhir.map((e) => [`${e.method} ${e.path} ${e.name}`, e] as const))(
    'application/fhir+json example %s is a FHIR resource of the right kind',
    (_label, example) => {
      const resource = JSON.parse(JSON.stringify(example.value)) as Bundle & { resourceType: string };
      const check = expected[example.path];
      if (check) {
        expect(resource.resourceType).toBe('Bundle');
        check(resource);
      } else {
        // The other FHIR routes take one resource, not a Bundle.
        const kinds: Array<[RegExp, string]> = [
          [/^\/fhir\/Consent/, 'Consent'],
          [/^\/status-report-requests\/\{id\}\/response$/, 'QuestionnaireResponse'],
          [/^\/(status-report-requests|fhir\/Task)$/, 'Task'],
          [/^\/fhir\/Subscription/, 'Subscription'],
          [/^\/fhir\/CareTeam$/, 'CareTeam'],
          [/^\/symptom-reports$/, 'QuestionnaireResponse'],
          [/^\/planning-meetings\/\{id\}\/responses$/, 'AppointmentResponse'],
        ];
        const kind = kinds.find(([path]) => path.test(example.path));
        expect(kind).toBeDefined();
        expect(resource.resourceType).toBe(kind?.[1]);
      }
    },
  );

  it('has FHIR document examples that pass the FHIR validator (base R4 and profiles/)', () => {
    const validator = getDefaultValidator();
    const documents = fhir.filter((e) => e.path === '/discharge-letters' || e.path === '/send-to-own-gp');
    expect(documents.length).toBeGreaterThanOrEqual(3);
    for (const example of documents) {
      const problems = validator
        .validate(example.value)
        .filter((i) => i.severity === 'error' || i.severity === 'fatal');
      expect({ example: example.name, problems }).toEqual({ example: example.name, problems: [] });
    }
  });

  it('has a complete discharge-summary document: LOINC 18842-5, CPR, GP by SOR, nothing a GP needs missing', () => {
    const bundle = exampleValue('/discharge-letters', 'application/fhir+json', 'discharge-summary-document') as Bundle;
    const composition = bundle.entry?.[0]?.resource as Composition;
    expect(composition.type.coding?.[0]).toMatchObject({ system: SYSTEM.loinc, code: '18842-5' });
    const patient = bundle.entry?.find((e) => e.resource?.resourceType === 'Patient')?.resource as Patient;
    expect(patient.identifier).toContainEqual({ system: SYSTEM.cpr, value: '0101901234' });
    expect(patient.generalPractitioner?.[0]?.identifier).toEqual({ system: SYSTEM.sor, value: '481101000016000' });
    const types = new Set(bundle.entry?.map((e) => e.resource?.resourceType));
    for (const type of ['Condition', 'MedicationStatement', 'CarePlan', 'Organization', 'Practitioner']) {
      expect(types).toContain(type);
    }
    expect(checkDischargeLetterCompleteness(mapFhirDischargeDocument(bundle, testContext()))).toEqual([]);
  });

  it('says "All OK" for the complete native letter and warns for the incomplete one, as their summaries claim', () => {
    const complete = exampleValue(
      '/discharge-letters',
      'application/json',
      'psychiatric-discharge',
    ) as NativeDischargeLetter;
    expect(checkDischargeLetterCompleteness(mapNativeDischargeLetter(complete, testContext()))).toEqual([]);
    const incomplete = exampleValue('/discharge-letters', 'application/json', 'incomplete') as NativeDischargeLetter;
    const reasons = checkDischargeLetterCompleteness(mapNativeDischargeLetter(incomplete, testContext())).map(
      (i) => i.details?.coding?.[0]?.code,
    );
    expect(reasons).toEqual(
      expect.arrayContaining(['missing-follow-up-plan', 'missing-medication-plan', 'missing-responsible-contact']),
    );
  });
});

describe('assertValidBody', () => {
  const letter = () =>
    exampleValue('/discharge-letters', 'application/json', 'psychiatric-discharge') as Record<string, unknown> &
      NativeDischargeLetter;
  const note = () =>
    exampleValue('/send-to-own-gp', 'application/json', 'progress-note') as Record<string, unknown> &
      NativeClinicalDocument;

  it.each<[string, (l: ReturnType<typeof letter>) => void, string, string]>([
    [
      'a missing cpr',
      (l) => {
        delete (l.patient as Partial<NativePatient>).cpr;
      },
      'patient.cpr',
      'missing required field patient.cpr',
    ],
    [
      'a cpr with a dash',
      (l) => {
        l.patient.cpr = '010190-1234';
      },
      'patient.cpr',
      'patient.cpr must match pattern ^[0-9]{10}$ (10 digits)',
    ],
    [
      'an unknown property',
      (l) => {
        (l.patient as unknown as Record<string, unknown>).foo = 'bar';
      },
      'patient.foo',
      "unknown field 'foo' in patient",
    ],
    [
      'an unknown top-level property',
      (l) => {
        l.recipientSor = '481101000016000';
      },
      'recipientSor',
      "unknown field 'recipientSor' in body",
    ],
    [
      'a bad enum in medications[0].change',
      (l) => {
        (l.medications?.[0] as unknown as Record<string, unknown>).change = 'paused';
      },
      'medications[0].change',
      'medications[0].change must be one of started, changed, stopped, unchanged',
    ],
    [
      'a bad date',
      (l) => {
        l.admission.start = '2026-02-30';
      },
      'admission.start',
      'admission.start must be a valid date (YYYY-MM-DD)',
    ],
    [
      'a date-time without a time zone',
      (l) => {
        l.admission.end = '2026-11-20T10:00';
      },
      'admission.end',
      'admission.end must be a valid date (YYYY-MM-DD)',
    ],
    [
      'a nested missing field',
      (l) => {
        delete (l.author.organization as Partial<NativeOrganization>).sor;
      },
      'author.organization.sor',
      'missing required field author.organization.sor',
    ],
    [
      'a SOR code that is too short',
      (l) => {
        l.department.sor = '123456';
      },
      'department.sor',
      'department.sor must match pattern ^[0-9]{11,18}$ (a SOR code of 11 to 18 digits)',
    ],
    [
      'a follow-up activity without owner',
      (l) => {
        delete (l.followUp?.activities[1] as Partial<NativeFollowUpActivity>).owner;
      },
      'followUp.activities[1].owner',
      'missing required field followUp.activities[1].owner',
    ],
    [
      'an unknown responsible party',
      (l) => {
        (l.medications?.[1] as unknown as Record<string, unknown>).continuedBy = 'pharmacy';
      },
      'medications[1].continuedBy',
      'medications[1].continuedBy must be one of gp, hospital, psychiatry, municipality, patient',
    ],
    [
      'a CPR given as a number',
      (l) => {
        (l.patient as unknown as Record<string, unknown>).cpr = 101901234;
      },
      'patient.cpr',
      'patient.cpr must be a string',
    ],
    [
      'an empty course',
      (l) => {
        l.course = '';
      },
      'course',
      'course must not be empty',
    ],
    [
      'a course over 100 000 characters',
      (l) => {
        l.course = 'x'.repeat(100_001);
      },
      'course',
      'course is too long: at most 100000 characters',
    ],
    [
      'a non-base64 attachment',
      (l) => {
        l.attachments = [{ contentType: 'application/pdf', data: 'not base64!' }];
      },
      'attachments[0].data',
      'attachments[0].data must match pattern',
    ],
    [
      'an attachment of another type',
      (l) => {
        l.attachments = [{ contentType: 'image/gif' as NativeAttachment['contentType'], data: 'R0lGODlh' }];
      },
      'attachments[0].contentType',
      'attachments[0].contentType must be one of application/pdf, text/plain, image/jpeg, image/png, image/tiff',
    ],
    [
      'a letter LOINC code outside the discharge-summary family',
      (l) => {
        l.loincCode = '11506-3';
      },
      'loincCode',
      'loincCode must be one of 18842-5, 28655-9, 11490-0, 34105-7',
    ],
  ])('rejects a discharge letter with %s, naming the field', (_label, breakIt, expression, diagnostics) => {
    const body = letter();
    breakIt(body);
    const outcome = rejection('NativeDischargeLetter', body);
    expect(issuesOf(outcome)).toContainEqual({
      expression,
      diagnostics: expect.stringContaining(diagnostics) as unknown,
    });
    expect(outcome.issue.every((i) => i.severity === 'error' && i.code === 'invalid')).toBe(true);
  });

  it('reports every problem at once, each with a reason code', () => {
    const body = letter();
    body.patient.cpr = '12';
    delete (body.author as Partial<NativeAuthor>).name;
    body.extra = true;
    const outcome = rejection('NativeDischargeLetter', body);
    expect(outcome.issue.map((i) => i.expression?.[0]).sort()).toEqual(['author.name', 'extra', 'patient.cpr']);
    expect(outcome.issue.map((i) => i.details?.coding?.[0]?.code).sort()).toEqual([
      'invalid-value',
      'missing-field',
      'unknown-field',
    ]);
  });

  it('rejects a clinical document with neither text nor attachment, naming both', () => {
    const body = note();
    delete body.text;
    expect(issuesOf(rejection('NativeClinicalDocument', body))).toEqual([
      { expression: 'text', diagnostics: 'body: give at least one of text and attachment' },
    ]);
  });

  it('takes a clinical document with only an attachment', () => {
    const body = note();
    delete body.text;
    body.attachment = { contentType: 'text/plain', data: 'SGVq' };
    expect(() => {
      assertValidBody('NativeClinicalDocument', body);
    }).not.toThrow();
  });

  it('rejects a clinical document date without a time zone', () => {
    const body = note();
    body.date = '2026-11-21 09:00';
    expect(issuesOf(rejection('NativeClinicalDocument', body))).toEqual([
      { expression: 'date', diagnostics: expect.stringMatching(/^date must be a valid date-time/) as unknown },
    ]);
  });

  it.each([[[]], ['text'], [null], [42]])('rejects a body that is not an object (%j)', (body) => {
    expect(issuesOf(rejection('NativeClinicalDocument', body))).toEqual([
      { expression: 'body', diagnostics: 'body must be an object' },
    ]);
  });

  it('fails loudly on a schema name openapi.yaml does not have', () => {
    expect(() => {
      assertValidBody('NoSuchSchema', {});
    }).toThrow(/no schema components\.schemas\.NoSuchSchema/);
  });
});

/**
 * The schemas must say exactly what src/mappers/native-types.ts says. `Shape<T>` turns a type into
 * "property → required | optional"; the object literals below only compile when they list exactly the
 * type's properties with the right flags, and the tests compare them with the schemas' properties and
 * `required`.
 */
type Shape<T> = { [K in keyof T]-?: object extends Pick<T, K> ? 'optional' : 'required' };

const schemaShapes: Array<[string, Record<string, 'required' | 'optional'>]> = [
  ['NativeOrganization', { sor: 'required', name: 'optional' } satisfies Shape<NativeOrganization>],
  ['NativePatient', { cpr: 'required', name: 'optional' } satisfies Shape<NativePatient>],
  ['NativeAuthor', { name: 'required', role: 'optional', organization: 'required' } satisfies Shape<NativeAuthor>],
  [
    'NativeContact',
    { name: 'required', phone: 'optional', email: 'optional', availability: 'optional' } satisfies Shape<NativeContact>,
  ],
  [
    'NativeMedication',
    {
      atc: 'optional',
      name: 'required',
      dosage: 'optional',
      change: 'required',
      reason: 'optional',
      continuedBy: 'optional',
      plan: 'optional',
    } satisfies Shape<NativeMedication>,
  ],
  ['NativeDiagnosis', { code: 'required', display: 'optional', primary: 'optional' } satisfies Shape<NativeDiagnosis>],
  [
    'NativeFollowUpActivity',
    { description: 'required', owner: 'required', due: 'optional' } satisfies Shape<NativeFollowUpActivity>,
  ],
  [
    'NativeFollowUp',
    { summary: 'optional', activities: 'required' } satisfies Shape<NonNullable<NativeDischargeLetter['followUp']>>,
  ],
  ['NativeAdmission', { start: 'required', end: 'required' } satisfies Shape<NativeDischargeLetter['admission']>],
  [
    'NativeAttachment',
    { contentType: 'required', data: 'required', title: 'optional' } satisfies Shape<NativeAttachment>,
  ],
  [
    'NativeDischargeLetter',
    {
      documentId: 'optional',
      replaces: 'optional',
      patient: 'required',
      recipient: 'optional',
      author: 'required',
      department: 'required',
      loincCode: 'optional',
      admission: 'required',
      diagnoses: 'optional',
      course: 'optional',
      medications: 'optional',
      followUp: 'optional',
      patientInformation: 'optional',
      contact: 'optional',
      text: 'optional',
      attachments: 'optional',
    } satisfies Shape<NativeDischargeLetter>,
  ],
  [
    'NativeClinicalDocument',
    {
      documentId: 'optional',
      patient: 'required',
      loincCode: 'optional',
      title: 'required',
      text: 'optional',
      attachment: 'optional',
      author: 'required',
      date: 'optional',
    } satisfies Shape<NativeClinicalDocument>,
  ],
  [
    'NativeDepartment',
    { sor: 'required', name: 'required', phone: 'optional', email: 'optional' } satisfies Shape<
      NativeDischargeLetter['department']
    >,
  ],
];

describe('native JSON schemas match src/mappers/native-types.ts', () => {
  const schema = (name: string) =>
    doc.components.schemas[name] as {
      properties: Record<string, unknown>;
      required?: string[];
      additionalProperties?: boolean;
      enum?: string[];
    };

  it.each(schemaShapes)('%s has the same properties, required fields, and no others', (name, shape) => {
    const s = schema(name);
    expect(Object.keys(s.properties).sort()).toEqual(Object.keys(shape).sort());
    expect([...(s.required ?? [])].sort()).toEqual(
      Object.keys(shape)
        .filter((k) => shape[k] === 'required')
        .sort(),
    );
    expect(s.additionalProperties).toBe(false);
  });

  it('has the patient name parts of the type', () => {
    const name = schema('NativePatient').properties.name as {
      properties: Record<string, unknown>;
      required?: string[];
    };
    const shape = { given: 'optional', family: 'optional' } satisfies Shape<NonNullable<NativePatient['name']>>;
    expect(Object.keys(name.properties).sort()).toEqual(Object.keys(shape).sort());
    expect(name.required).toBeUndefined();
  });

  it('has the enums of the type', () => {
    const changes = { started: 1, changed: 1, stopped: 1, unchanged: 1 } satisfies Record<MedicationChange, 1>;
    const parties = { gp: 1, hospital: 1, psychiatry: 1, municipality: 1, patient: 1 } satisfies Record<
      ResponsibleParty,
      1
    >;
    const contentTypes = {
      'application/pdf': 1,
      'text/plain': 1,
      'image/jpeg': 1,
      'image/png': 1,
      'image/tiff': 1,
    } satisfies Record<NativeAttachment['contentType'], 1>;
    expect(schema('MedicationChange').enum).toEqual(Object.keys(changes));
    expect(schema('ResponsibleParty').enum).toEqual(Object.keys(parties));
    expect((schema('NativeAttachment').properties.contentType as { enum: string[] }).enum).toEqual(
      Object.keys(contentTypes),
    );
    expect((schema('NativeDischargeLetter').properties.loincCode as { enum: string[] }).enum).toEqual([
      ...DISCHARGE_SUMMARY_LOINC,
    ]);
  });

  it('gives every native schema a plain-language description', () => {
    for (const [name] of schemaShapes) {
      expect({ name, description: (doc.components.schemas[name] as { description?: string }).description }).toEqual({
        name,
        description: expect.stringMatching(/\w+ \w+/) as unknown,
      });
    }
  });
});

describe('openapi.yaml operations', () => {
  it('covers the routes of the gateway contract', () => {
    const labels = new Set(operations.map((o) => o.label));
    for (const label of [
      'GET /health/live',
      'GET /health/ready',
      'GET /metrics',
      'GET /docs',
      'GET /openapi.yaml',
      'GET /admin/queues',
      'GET /fhir/metadata',
      'POST /fhir',
      'GET /fhir/Organization',
      'GET /fhir/Patient',
      'GET /fhir/Endpoint',
      'GET /fhir/Organization/{id}',
      'GET /fhir/Patient/{id}',
      'GET /fhir/Endpoint/{id}',
      'POST /discharge-letters',
      'POST /send-to-own-gp',
      'GET /messages/{id}',
      'GET /messages',
      'POST /fhir/$process-message',
    ]) {
      expect(labels).toContain(label);
    }
  });

  it.each(operations.map((o) => [o.label, o.op] as const))('%s has a 2xx answer with an example', (_label, op) => {
    const ok = Object.entries(op.responses ?? {})
      .filter(([status]) => /^2\d\d$/.test(status))
      .map(([, r]) => resolveResponse(r));
    // A browser form post (sign-in, sign-out) succeeds with a redirect, whose Location is its example.
    const location: unknown = op.responses?.['303']?.headers?.Location;
    if (ok.length === 0 && (location as { example?: string } | undefined)?.example) {
      return;
    }
    expect(ok.length).toBeGreaterThan(0);
    const examples = ok.flatMap((r) => Object.values(r.content ?? {}).flatMap((m) => Object.values(m.examples ?? {})));
    expect(examples.length).toBeGreaterThan(0);
    expect(examples.every((e) => e.value !== undefined)).toBe(true);
  });

  it.each(operations.map((o) => [o.label, o.path, o.op] as const))(
    '%s answers every 4xx/5xx with an OperationOutcome that names the problem',
    (_label, path, op) => {
      for (const [status, raw] of Object.entries(op.responses ?? {})) {
        // The readiness probe's 503 is its JSON status for load balancers, documented as such.
        if (!/^[45]\d\d$/.test(status) || (path === '/health/ready' && status === '503')) {
          continue;
        }
        const response = resolveResponse(raw);
        expect({ status, types: Object.keys(response.content ?? {}) }).toEqual({
          status,
          types: ['application/fhir+json'],
        });
        const media = response.content?.['application/fhir+json'];
        expect(media?.schema).toEqual({ $ref: '#/components/schemas/OperationOutcome' });
        const examples = Object.values(media?.examples ?? {});
        expect(examples.length).toBeGreaterThan(0);
        for (const example of examples) {
          const outcome = example.value as OperationOutcome;
          expect(outcome.resourceType).toBe('OperationOutcome');
          expect(outcome.issue.length).toBeGreaterThan(0);
          expect(
            outcome.issue.every((i) => ['error', 'fatal'].includes(i.severity) && (i.diagnostics ?? '').length > 10),
          ).toBe(true);
        }
      }
    },
  );

  it.each(operations.map((o) => [o.label, o.op] as const))(
    '%s documents who may call it',
    (_label, op: OpenApiOperation) => {
      expect(op.description).toMatch(/\*\*Roles:\*\*/);
      if (op.security?.length === 0) {
        expect(op['x-roles']).toBeUndefined();
        expect(op.description).toMatch(/no authentication/);
      } else if (op.security?.every((s) => Object.keys(s as object).join() === 'metricsToken')) {
        // The metrics scraper's own token: no client, so no role, but a 401 without it.
        expect(op['x-roles']).toBeUndefined();
        expect(Object.keys(op.responses ?? {})).toContain('401');
      } else {
        expect(op['x-roles']?.length).toBeGreaterThan(0);
        for (const role of op['x-roles'] ?? []) {
          expect(ROLES).toContain(role);
        }
        expect(Object.keys(op.responses ?? {})).toContain('401');
      }
    },
  );

  it('documents the roles the routes enforce for the document and directory routes', () => {
    const roles = (path: string, method: string) => doc.paths[path]?.[method]?.['x-roles'];
    expect(roles('/discharge-letters', 'post')).toEqual(['hospital']);
    expect(roles('/send-to-own-gp', 'post')).toEqual(['hospital', 'gp']);
    expect(roles('/messages', 'get')).toEqual(['hospital', 'gp', 'jobcentre', 'employer', 'caremanager', 'admin']);
    expect(roles('/fhir', 'post')).toEqual(['admin']);
    expect(roles('/admin/queues', 'get')).toEqual(['admin']);
    expect(new Set(roles('/fhir/$process-message', 'post'))).toEqual(new Set(ROLES));
  });

  it('declares every path template parameter as a required path parameter, and every response has a description', () => {
    const paramOf = (p: unknown) => {
      const ref = (p as { $ref?: string }).$ref;
      return (ref ? doc.components.parameters?.[ref.replace('#/components/parameters/', '')] : p) as {
        name: string;
        in: string;
        required?: boolean;
      };
    };
    for (const { path, op } of operations) {
      const pathLevel = (doc.paths[path]?.parameters ?? []) as unknown as unknown[];
      const declared = [...pathLevel, ...(op.parameters ?? [])].map(paramOf).filter((p) => p.in === 'path');
      const templated = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      expect({ path, names: declared.map((p) => p.name).sort() }).toEqual({ path, names: [...templated].sort() });
      expect(declared.every((p) => p.required === true)).toBe(true);
      for (const response of Object.values(op.responses ?? {})) {
        expect(resolveResponse(response).description).toBeTruthy();
      }
    }
    const ids = operations.map((o) => (o.op as { operationId?: string }).operationId).filter((id) => id !== undefined);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('describes the 202 answer with a Location header and both kinds of outcome', () => {
    const accepted = doc.components.responses?.Accepted;
    expect(accepted?.headers).toHaveProperty('Location');
    const outcomes = Object.values(accepted?.content?.['application/json']?.examples ?? {}).map(
      (e) => (e.value as { outcome: OperationOutcome }).outcome,
    );
    const severities = outcomes.flatMap((o) => o.issue.map((i) => i.severity));
    expect(severities).toEqual(expect.arrayContaining(['information', 'warning']));
  });
});
