import type { Bundle } from 'fhir/r4';
import { readPackage, resourcesIn } from './packages';
import { NOT_EVALUATED, standardOf, validateMedComMessage } from './medcom-validator';

/**
 * The MedCom validator is trusted only if MedCom's own example messages pass it with no error, and only useful
 * if it still fails the faults the issue found in the gateway's messages. Both directions are tested here.
 */
const PROFILE_PACKAGES = [
  'medcom.fhir.dk.carecommunication-5.0.2',
  'medcom.fhir.dk.hospitalnotification-3.0.2',
  'medcom.fhir.dk.acknowledgement-2.0.3',
];

const examples = PROFILE_PACKAGES.flatMap((id) =>
  resourcesIn(readPackage(id), 'example')
    .filter(({ resource }) => resource.resourceType === 'Bundle' && resource.type === 'message')
    .map(({ file, resource }) => ({ name: `${id}/${file}`, bundle: resource as unknown as Bundle })),
);

/** The first entry of a type, typed as the shape a test edits. */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the shape it edits
const first = <T>(b: Bundle, type: string): T =>
  b.entry?.find((e) => e.resource?.resourceType === type)?.resource as unknown as T;

const example = (pkg: string, id: string): Bundle =>
  structuredClone(examples.find((e) => e.name === `${pkg}/example/Bundle-${id}.json`)?.bundle) as Bundle;

describe('MedCom validator', () => {
  it('finds the example messages of every profile package', () => {
    expect(examples.filter((e) => e.name.includes('carecommunication')).length).toBeGreaterThanOrEqual(8);
    expect(examples.filter((e) => e.name.includes('hospitalnotification')).length).toBeGreaterThanOrEqual(10);
    expect(examples.filter((e) => e.name.includes('acknowledgement')).length).toBeGreaterThanOrEqual(3);
  });

  it.each(examples.map((e) => [e.name, e.bundle] as const))('passes MedCom example %s with no error', (_, bundle) => {
    expect(standardOf(bundle)).toBeDefined();
    expect(validateMedComMessage(bundle).map((i) => i.diagnostics)).toEqual([]);
  });

  it('takes out exactly the invariants that call resolve() or conformsTo() and checks them by hand', () => {
    validateMedComMessage(example('medcom.fhir.dk.carecommunication-5.0.2', '0d5b3c18-fab6-4d93-9d88-c9c8abf1f18c'));
    expect([...NOT_EVALUATED]).toEqual(
      expect.arrayContaining([
        'medcom-careCommunication-9',
        'medcom-careCommunication-11',
        'medcom-careCommunication-12',
      ]),
    );
  });

  describe('still finds the faults the issue reports', () => {
    const cc = (): Bundle => example('medcom.fhir.dk.carecommunication-5.0.2', '0d5b3c18-fab6-4d93-9d88-c9c8abf1f18c');
    const errors = (b: Bundle): string =>
      validateMedComMessage(b)
        .map((i) => i.diagnostics)
        .join('\n');

    it('a gateway event code instead of a MedCom one (required binding)', () => {
      const b = cc();
      first<{ eventCoding: { code: string } }>(b, 'MessageHeader').eventCoding.code = 'clinical-document';
      expect(errors(b)).toMatch(/event\[x\].*not in the required ValueSet/);
    });

    it('an Organization with SOR but no GLN (the dk-core identifier slices)', () => {
      const b = cc();
      const org = first<{
        identifier: Array<{ system: string }>;
      }>(b, 'Organization');
      org.identifier = org.identifier.filter((i) => !i.system.includes('gln'));
      expect(errors(b)).toMatch(/EAN-ID|identifier/);
    });

    it('a destination without the primary use extension (the rewritten discriminator)', () => {
      const b = cc();
      delete first<{ destination: Array<{ extension?: unknown }> }>(b, 'MessageHeader').destination[0]?.extension;
      expect(errors(b)).toMatch(/primary/);
    });

    it('a Provenance without occurredDateTime', () => {
      const b = cc();
      const p = first<{
        occurredDateTime?: string;
      }>(b, 'Provenance');
      delete p.occurredDateTime;
      expect(errors(b)).toMatch(/occurred/);
    });

    it('a payload text without its author (the type slicing on payload.content[x], checked by hand)', () => {
      const b = cc();
      const c = first<{
        payload: Array<{ contentString?: string; extension: Array<{ url: string }> }>;
      }>(b, 'Communication');
      const text = c.payload.find((p) => p.contentString) as { extension: Array<{ url: string }> };
      text.extension = text.extension.filter((x) => !x.url.endsWith('practitioner-extension'));
      expect(errors(b)).toMatch(/author/);
    });

    it('a reference that does not resolve inside the Bundle', () => {
      const b = cc();
      first<{ sender: { reference: string } }>(b, 'MessageHeader').sender.reference = 'Organization/nowhere';
      expect(errors(b)).toMatch(/does not resolve/);
    });

    it('a HospitalNotification Encounter with a location', () => {
      const b = example('medcom.fhir.dk.hospitalnotification-3.0.2', 'a5e5b880-c087-4055-b9ec-99108695f81d');
      const enc = first<{ location?: unknown }>(b, 'Encounter');
      enc.location = [{ location: { display: 'Afsnit P3' } }];
      expect(errors(b)).toMatch(/location/);
    });
  });
});
