import type {
  Bundle,
  BundleEntry,
  CodeSystem,
  CodeSystemConcept,
  ElementDefinition,
  FhirResource,
  OperationOutcomeIssue,
  Resource,
  StructureDefinition,
  ValueSet,
} from 'fhir/r4';
import * as medplumCore from '@medplum/core';
import { OperationOutcomeError, validateResource } from '@medplum/core';
import fhirpath from 'fhirpath';
import r4model from 'fhirpath/fhir-context/r4';
import { createFhirValidator } from '../../../src/validation/fhir-validator';
import { readPackage, resourcesIn } from './packages';

/**
 * A MedCom validator for tests: each message is validated against the package stack its profile was built on
 * (../shared/medcom/README.md), with @medplum/core doing structure, cardinality, slicing, fixed/pattern values
 * and FHIRPath invariants, and this file doing what medplum cannot:
 * - the dk-core Identifier profiles (SOR, GLN, CPR...) named as a slice's type are copied under the slice, so a
 *   slice discriminated on `system` can match;
 * - MessageHeader.destination's discriminator `extension('…destinationUseExtension').value.code` becomes the
 *   path medplum's walker follows (`extension.value[x].code`);
 * - invariants calling `resolve()` or `conformsTo()` are taken out of the snapshots (medplum reports them as
 *   failures on valid messages) and checked here by hand (`referenceAssertions`);
 * - required bindings to MedCom ValueSets are checked against the terminology package of the stack.
 * The check is trusted because MedCom's own example messages pass it with no error (medcom-validator.test.ts).
 */
export type MedComStandard = 'carecommunication' | 'hospitalnotification' | 'acknowledgement' | 'messaging';

export const STACKS: Record<MedComStandard, string[]> = {
  carecommunication: [
    'medcom.fhir.dk.carecommunication-5.0.2',
    'medcom.fhir.dk.messaging-4.0.2',
    'medcom.fhir.dk.core-3.0.1',
    'hl7.fhir.dk.core-3.4.0',
    'medcom.fhir.dk.terminology-2.0.1',
    'medcom.fhir.dk.messagedefinitions-1.0.0',
  ],
  hospitalnotification: [
    'medcom.fhir.dk.hospitalnotification-3.0.2',
    'medcom.fhir.dk.messaging-2.1.0',
    'medcom.fhir.dk.core-2.0.0',
    'hl7.fhir.dk.core-2.0.0',
    'medcom.fhir.dk.terminology-1.1.1',
  ],
  acknowledgement: [
    'medcom.fhir.dk.acknowledgement-2.0.3',
    'medcom.fhir.dk.messaging-2.1.0',
    'medcom.fhir.dk.core-2.0.1',
    'hl7.fhir.dk.core-2.0.0',
    'medcom.fhir.dk.terminology-1.4.0',
  ],
  // a plain messaging message (the acknowledgement package's example of an acknowledged message)
  messaging: [
    'medcom.fhir.dk.messaging-2.1.0',
    'medcom.fhir.dk.core-2.0.1',
    'hl7.fhir.dk.core-2.0.0',
    'medcom.fhir.dk.terminology-1.4.0',
  ],
};

/** The message profile (Bundle) of each standard, by the canonical base of its package. */
const STANDARD_OF_PROFILE: Array<[RegExp, MedComStandard]> = [
  [/\/carecommunication\/StructureDefinition\//, 'carecommunication'],
  [/\/hospitalnotification\/StructureDefinition\//, 'hospitalnotification'],
  [/\/acknowledgement\/StructureDefinition\//, 'acknowledgement'],
  [/\/messaging\/StructureDefinition\/medcom-messaging-message$/, 'messaging'],
];

interface Stack {
  profiles: Map<string, StructureDefinition>;
  valueSets: Map<string, ValueSet>;
  codeSystems: Map<string, CodeSystem>;
}

const stacks = new Map<MedComStandard, Stack>();

function loadStack(standard: MedComStandard): Stack {
  const done = stacks.get(standard);
  if (done) {
    return done;
  }
  // Indexes the R4 base types into the stock @medplum/core this file validates with (the gateway's validator
  // runs on its own copy of the module, src/validation/medplum-core.ts, whose index this one does not see).
  createFhirValidator({ core: medplumCore });
  const profiles = new Map<string, StructureDefinition>();
  const valueSets = new Map<string, ValueSet>();
  const codeSystems = new Map<string, CodeSystem>();
  for (const id of STACKS[standard]) {
    for (const { resource } of resourcesIn(readPackage(id), '')) {
      const r = resource as unknown as FhirResource & { url: string };
      // the first package of the stack that defines a canonical wins (the profile package before its base)
      if (r.resourceType === 'StructureDefinition' && !profiles.has(r.url)) {
        profiles.set(r.url, structuredClone(r));
      } else if (r.resourceType === 'ValueSet' && !valueSets.has(r.url)) {
        valueSets.set(r.url, r);
      } else if (r.resourceType === 'CodeSystem' && !codeSystems.has(r.url)) {
        codeSystems.set(r.url, r);
      }
    }
  }
  for (const sd of profiles.values()) {
    patch(sd, profiles);
  }
  const stack = { profiles, valueSets, codeSystems };
  stacks.set(standard, stack);
  return stack;
}

interface TypeSlicing {
  path: string;
  choice: string;
  slices: Array<{
    name: string;
    min: number;
    max: number;
    types: string[];
    extensions: Array<{ url: string; min: number; max: number; name: string }>;
  }>;
}

/** The `type` slicings taken out of each profile (by canonical), checked by checkTypeSlices. */
const TYPE_SLICES = new Map<string, TypeSlicing[]>();

/** The invariants taken out of the snapshots because medplum cannot evaluate them (see referenceAssertions). */
export const NOT_EVALUATED = new Set<string>();

function patch(sd: StructureDefinition, profiles: Map<string, StructureDefinition>): void {
  const elements = sd.snapshot?.element ?? [];
  for (const e of elements) {
    if (e.constraint) {
      e.constraint = e.constraint.filter((c) => {
        const unevaluable = /resolve\(\)|conformsTo\(/.test(c.expression ?? '');
        if (unevaluable) {
          NOT_EVALUATED.add(c.key);
        }
        return !unevaluable;
      });
    }
    for (const d of e.slicing?.discriminator ?? []) {
      // extension('…destinationUseExtension').value.code (messaging 4) and $this.extension.value (messaging 2)
      const m = /^(?:\$this\.)?extension(?:\('[^']+'\))?\.value((?:\.\w+)?)$/.exec(d.path);
      if (m) {
        d.path = `extension.value[x]${m[1] ?? ''}`;
      }
    }
  }
  // a slice inside a slice: medplum would take it for one more slice of the outer element, so it becomes a plain
  // element of the outer slice (its fixed values still discriminate the outer slice)
  const active: string[] = [];
  for (const e of elements) {
    while (
      active.length &&
      !e.path.startsWith(`${active[active.length - 1] ?? ''}.`) &&
      e.path !== active[active.length - 1]
    ) {
      active.pop();
    }
    if (e.sliceName && active.some((p) => e.path.startsWith(`${p}.`))) {
      delete e.sliceName;
    }
    if (e.slicing && !active.includes(e.path)) {
      active.push(e.path);
    }
  }
  // `type` slicing on a choice element under a BackboneElement (Communication.payload on content[x]) is checked
  // by hand (checkTypeSlices): the slicing and its slices come out of the snapshot
  const typeSliced = elements.filter((e) =>
    e.slicing?.discriminator?.some((d) => d.type === 'type' && /^\$this\.\w+$/.test(d.path)),
  );
  for (const sliced of typeSliced) {
    const choice = (sliced.slicing?.discriminator?.[0]?.path ?? '').replace('$this.', '');
    const slices = elements
      .filter((e) => e.path === sliced.path && e.sliceName && e.id === `${sliced.id ?? ''}:${e.sliceName}`)
      .map((s) => ({
        name: s.sliceName ?? '',
        min: s.min ?? 0,
        max: s.max === '*' ? Infinity : Number(s.max ?? '*'),
        types: (elements.find((c) => c.id === `${s.id ?? ''}.${choice}[x]`)?.type ?? []).map((t) => t.code),
        extensions: elements
          .filter(
            (c) =>
              c.id?.startsWith(`${s.id ?? ''}.extension:`) &&
              c.id.split('.').length === (s.id ?? '').split('.').length + 1,
          )
          .map((c) => ({
            url: (c.type?.[0]?.profile?.[0] ?? '').replace(/\|.*$/, ''),
            min: c.min ?? 0,
            max: c.max === '*' ? Infinity : Number(c.max ?? '*'),
            name: c.sliceName ?? c.id ?? '',
          })),
      }));
    TYPE_SLICES.set(sd.url, [...(TYPE_SLICES.get(sd.url) ?? []), { path: sliced.path, choice, slices }]);
    delete sliced.slicing;
    const prefix = `${sliced.id ?? ''}:`;
    elements.splice(0, elements.length, ...elements.filter((e) => !e.id?.startsWith(prefix)));
  }
  // copy a slice's type profile children under the slice where the snapshot does not list them
  const out: ElementDefinition[] = [];
  for (let i = 0; i < elements.length; i++) {
    const e = elements[i] as ElementDefinition;
    out.push(e);
    const typeProfile = e.sliceName ? profiles.get(e.type?.[0]?.profile?.[0] ?? '') : undefined;
    if (!typeProfile || typeProfile.type === 'Extension' || typeProfile.kind === 'resource') {
      continue;
    }
    const own = new Set<string>();
    while (i + 1 < elements.length && (elements[i + 1] as ElementDefinition).id?.startsWith(`${e.id}.`)) {
      const child = elements[++i] as ElementDefinition;
      own.add(child.path);
      out.push(child);
    }
    for (const child of typeProfile.snapshot?.element.slice(1) ?? []) {
      const path = `${e.path}${child.path.slice(typeProfile.type.length)}`;
      if (!own.has(path)) {
        out.push({
          ...structuredClone(child),
          id: `${e.id}${(child.id ?? child.path).slice(typeProfile.type.length)}`,
          path,
        });
      }
    }
  }
  if (sd.snapshot) {
    sd.snapshot.element = out;
  }
}

/** Which MedCom standard a message claims (its Bundle.meta.profile), or undefined. */
export function standardOf(bundle: Bundle): MedComStandard | undefined {
  for (const url of bundle.meta?.profile ?? []) {
    const hit = STANDARD_OF_PROFILE.find(([re]) => re.test(url));
    if (hit) {
      return hit[1];
    }
  }
  return undefined;
}

/**
 * Validates a MedCom message Bundle: the Bundle and every entry against each profile it claims in meta.profile
 * (an unknown claimed profile is an error), then the invariants and bindings medplum leaves out. Returns errors
 * only, each naming the entry and element.
 */
export function validateMedComMessage(bundle: Bundle, standard = standardOf(bundle)): OperationOutcomeIssue[] {
  if (!standard) {
    return [error('Bundle.meta.profile', 'claims no MedCom message profile')];
  }
  const stack = loadStack(standard);
  const issues: OperationOutcomeIssue[] = [];
  const check = (resource: Resource, where: string): void => {
    for (const url of resource.meta?.profile ?? []) {
      const sd = stack.profiles.get(url.replace(/\|.*$/, ''));
      if (!sd) {
        issues.push(error(`${where}.meta.profile`, `profile ${url} is not in the ${standard} stack`));
        continue;
      }
      issues.push(...run(resource, sd).map((i) => at(i, where)));
      issues.push(...checkBindings(resource, sd, stack).map((i) => at(i, where)));
      issues.push(...checkTypeSlices(resource, sd).map((i) => at(i, where)));
    }
  };
  check(bundle, 'Bundle');
  (bundle.entry ?? []).forEach((e, i) => {
    if (e.resource) {
      check(e.resource, `Bundle.entry[${i}].resource`);
    }
  });
  issues.push(...referenceAssertions(bundle, standard, stack));
  return issues;
}

function run(resource: Resource, profile: StructureDefinition): OperationOutcomeIssue[] {
  try {
    return validateResource(resource, { profile: profile as never }).filter((i) => i.severity === 'error');
  } catch (e) {
    if (e instanceof OperationOutcomeError) {
      return (e.outcome.issue as OperationOutcomeIssue[]).filter((i) => i.severity === 'error');
    }
    throw e;
  }
}

/**
 * Required bindings to ValueSets of the stack, on elements outside slices (a slice's binding applies only to its
 * members, which medplum already picked by fixed values). A ValueSet include that names only a system admits the
 * CodeSystem's concepts when the stack has the CodeSystem, otherwise any code of that system.
 */
function checkBindings(resource: Resource, sd: StructureDefinition, stack: Stack): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  for (const e of sd.snapshot?.element ?? []) {
    const vsUrl = e.binding?.valueSet?.replace(/\|.*$/, '');
    const vs = vsUrl ? stack.valueSets.get(vsUrl) : undefined;
    if (e.binding?.strength !== 'required' || !vs || e.id?.includes(':')) {
      continue;
    }
    const expression = e.path.replace(/\[x\]/g, '');
    const values = fhirpath.evaluate(resource, expression, undefined, r4model) as unknown[];
    for (const v of values) {
      const codings = codingsOf(v);
      if (codings.length && !codings.some((c) => inValueSet(c, vs, stack))) {
        issues.push(
          error(e.path, `${JSON.stringify(codings)} is not in the required ValueSet ${vsUrl ?? ''} (${e.path})`),
        );
      }
    }
  }
  return issues;
}

/** Slice cardinality and each slice's extension cardinality for the `type` slicings medplum misreads. */
function checkTypeSlices(resource: Resource, sd: StructureDefinition): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  for (const slicing of TYPE_SLICES.get(sd.url) ?? []) {
    const values = fhirpath.evaluate(resource, slicing.path, undefined, r4model) as Array<Record<string, unknown>>;
    for (const slice of slicing.slices) {
      const members = values.filter((v) =>
        slice.types.some((t) => v[`${slicing.choice}${t.charAt(0).toUpperCase()}${t.slice(1)}`] !== undefined),
      );
      if (members.length < slice.min || members.length > slice.max) {
        issues.push(
          error(slicing.path, `slice '${slice.name}': expected ${slice.min}..${slice.max}, found ${members.length}`),
        );
      }
      members.forEach((m, i) => {
        const extensions = (m.extension ?? []) as Array<{ url: string }>;
        for (const x of slice.extensions) {
          const n = extensions.filter((e) => e.url === x.url).length;
          if (n < x.min || n > x.max) {
            issues.push(
              error(
                `${slicing.path}:${slice.name}[${i}].extension`,
                `${x.name} (${x.url}): expected ${x.min}..${x.max}, found ${n}`,
              ),
            );
          }
        }
      });
    }
  }
  return issues;
}

function codingsOf(v: unknown): Array<{ system?: string; code?: string }> {
  if (typeof v === 'string') {
    return [{ code: v }];
  }
  const o = v as { coding?: unknown[]; system?: string; code?: string } | null;
  if (o && Array.isArray(o.coding)) {
    return o.coding as Array<{ system?: string; code?: string }>;
  }
  return o && typeof o.code === 'string' ? [o] : [];
}

function inValueSet(c: { system?: string; code?: string }, vs: ValueSet, stack: Stack): boolean {
  const matches = (inc: NonNullable<ValueSet['compose']>['include'][number]): boolean => {
    if (inc.valueSet?.length) {
      return inc.valueSet.every((u) => {
        const inner = stack.valueSets.get(u);
        return inner ? inValueSet(c, inner, stack) : true;
      });
    }
    if (c.system !== undefined && inc.system !== c.system) {
      return false;
    }
    if (inc.concept) {
      return inc.concept.some((k) => k.code === c.code);
    }
    const cs = inc.system ? stack.codeSystems.get(inc.system) : undefined;
    return cs && !inc.filter ? conceptCodes(cs.concept ?? []).includes(c.code ?? '') : true;
  };
  const compose = vs.compose;
  if (!compose) {
    return true;
  }
  return compose.include.some(matches) && !(compose.exclude ?? []).some(matches);
}

function conceptCodes(concepts: CodeSystemConcept[]): string[] {
  return concepts.flatMap((k) => [k.code, ...conceptCodes(k.concept ?? [])]);
}

/**
 * The invariants taken out of the snapshots, checked by hand: references inside the Bundle resolve to an entry
 * (every one, not only those the invariants name), `conformsTo()` means the MessageHeader and Provenance were
 * validated against the named profiles, and the CareCommunication rules on the author and recipient.
 */
function referenceAssertions(bundle: Bundle, standard: MedComStandard, stack: Stack): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  const entries = bundle.entry ?? [];
  const resolve = (reference: string | undefined): FhirResource | undefined => resolveIn(entries, reference);
  const refs = collectReferences(bundle);
  for (const { path, reference } of refs) {
    // a Provenance's target and entity name messages of the history, which are not in this Bundle (MedCom
    // writes them as MessageHeader/<id>, the gateway as the fullUrl the earlier message gave its header)
    const history = /\.resource\.(target|entity)\[\d+\]/.test(path);
    if (!history && !reference.startsWith('#') && !resolve(reference)) {
      issues.push(error(path, `reference ${reference} does not resolve inside the Bundle`));
    }
  }
  const header = entries[0]?.resource as FhirResource | undefined;
  const conformsTo: Record<MedComStandard, Array<[string, string]>> = {
    acknowledgement: [
      [
        'MessageHeader',
        'http://medcomfhir.dk/ig/acknowledgement/StructureDefinition/medcom-messaging-acknowledgementHeader',
      ],
      ['MessageHeader', 'http://medcomfhir.dk/fhir/messaging/StructureDefinition/medcom-messaging-messageHeader'],
      ['Provenance', 'http://medcomfhir.dk/fhir/messaging/StructureDefinition/medcom-messaging-provenance'],
    ],
    hospitalnotification: [
      [
        'MessageHeader',
        'http://medcomfhir.dk/fhir/hospitalnotification/StructureDefinition/medcom-hospitalNotification-messageHeader',
      ],
    ],
    messaging: [],
    carecommunication: [
      [
        'MessageHeader',
        'http://medcomfhir.dk/ig/carecommunication/StructureDefinition/medcom-careCommunication-messageHeader',
      ],
      [
        'Provenance',
        'http://medcomfhir.dk/ig/carecommunication/StructureDefinition/medcom-careCommunication-provenance',
      ],
    ],
  };
  for (const [type, url] of conformsTo[standard]) {
    // the invariants name the pre-2022 canonicals (medcomfhir.dk/fhir/...); the packages publish them under /ig/
    const profile = stack.profiles.get(url.replace('//medcomfhir.dk/fhir/', '//medcomfhir.dk/ig/'));
    entries.forEach((e, i) => {
      if (e.resource?.resourceType === type) {
        if (!profile) {
          issues.push(error(`Bundle.entry[${i}]`, `conformsTo(${url}): profile not in the stack`));
        } else {
          issues.push(...run(e.resource, profile).map((x) => at(x, `Bundle.entry[${i}].resource`)));
        }
      }
    });
  }
  if (standard === 'carecommunication' && header?.resourceType === 'MessageHeader') {
    const sender = resolve(header.sender?.reference);
    const receiver = resolve(header.destination?.[0]?.receiver?.reference);
    entries.forEach((e, i) => {
      const c = e.resource as FhirResource | undefined;
      if (c?.resourceType !== 'Communication') {
        return;
      }
      const orgOf = (r: FhirResource | undefined): FhirResource | undefined =>
        r?.resourceType === 'CareTeam'
          ? resolve(r.managingOrganization?.[0]?.reference)
          : r?.resourceType === 'PractitionerRole'
            ? resolve(r.organization?.reference)
            : undefined;
      // medcom-careCommunication-12: a recipient belongs to the receiving organisation
      for (const r of c.recipient ?? []) {
        if (orgOf(resolve(r.reference)) !== receiver) {
          issues.push(error(`Bundle.entry[${i}].resource.recipient`, 'medcom-careCommunication-12: not the receiver'));
        }
      }
      // medcom-careCommunication-11: a sender (extension) belongs to the sending organisation
      for (const x of c.extension ?? []) {
        const ref = x.valueReference?.reference;
        if (ref && orgOf(resolve(ref)) !== sender) {
          issues.push(error(`Bundle.entry[${i}].resource.extension`, 'medcom-careCommunication-11: not the sender'));
        }
      }
      // medcom-careCommunication-9: an encounter carries the episode-of-care identifier
      if (c.encounter) {
        const enc = resolve(c.encounter.reference);
        if (enc?.resourceType !== 'Encounter' || !enc.episodeOfCare?.some((x) => x.identifier)) {
          issues.push(error(`Bundle.entry[${i}].resource.encounter`, 'medcom-careCommunication-9'));
        }
      }
      // medcom-careCommunication-7/8: a payload author role has a code xor a text, its practitioner a name
      (c.payload ?? []).forEach((p, j) => {
        for (const x of p.extension ?? []) {
          if (!x.url.endsWith('medcom-core-practitioner-extension')) {
            continue;
          }
          const role = resolve(x.valueReference?.reference);
          const where = `Bundle.entry[${i}].resource.payload[${j}].extension`;
          if (role?.resourceType !== 'PractitionerRole') {
            issues.push(error(where, 'medcom-careCommunication-7: author is not a PractitionerRole'));
            continue;
          }
          const hasCode = !!role.code?.some((k) => k.coding?.some((cd) => cd.code));
          const hasText = !!role.code?.some((k) => k.text);
          if (hasCode === hasText) {
            issues.push(error(where, 'medcom-careCommunication-7: role code xor text'));
          }
          const practitioner = resolve(role.practitioner?.reference);
          if (practitioner?.resourceType !== 'Practitioner' || !practitioner.name?.length) {
            issues.push(error(where, 'medcom-careCommunication-8: practitioner name'));
          }
        }
      });
    });
  }
  return issues;
}

/** An entry by fullUrl or by `Type/id` (MedCom's examples use both). */
export function resolveIn(entries: BundleEntry[], reference: string | undefined): FhirResource | undefined {
  if (!reference) {
    return undefined;
  }
  return entries.find(
    (e) =>
      e.fullUrl === reference ||
      (e.resource && `${e.resource.resourceType}/${e.resource.id ?? ''}` === reference) ||
      (e.fullUrl !== undefined && e.resource && e.fullUrl.endsWith(`/${reference}`)),
  )?.resource as FhirResource | undefined;
}

function collectReferences(value: unknown, path = 'Bundle'): Array<{ path: string; reference: string }> {
  if (Array.isArray(value)) {
    return value.flatMap((v, i) => collectReferences(v, `${path}[${i}]`));
  }
  if (!value || typeof value !== 'object') {
    return [];
  }
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) =>
    k === 'reference' && typeof v === 'string' ? [{ path, reference: v }] : collectReferences(v, `${path}.${k}`),
  );
}

function error(where: string, text: string): OperationOutcomeIssue {
  return { severity: 'error', code: 'invalid', diagnostics: `${where}: ${text}`, expression: [where] };
}

function at(issue: OperationOutcomeIssue, where: string): OperationOutcomeIssue {
  const text = issue.details?.text ?? issue.diagnostics ?? issue.code;
  const expression = (issue.expression ?? []).map((x) => `${where}(${x})`);
  return { severity: 'error', code: issue.code, diagnostics: `${expression[0] ?? where}: ${text}`, expression };
}
