import type { Organization } from 'fhir/r4';
import {
  findOrganizationByIdentifier,
  findOrganizationEndpoint,
  organisationName,
} from '../../src/directory/directory';
import { importDirectoryBundle } from '../../src/directory/import-directory';
import { GatewayError } from '../../src/errors';
import { SYSTEM } from '../../src/mappers/systems';
import type { Db } from '../../src/store/db';
import { createTestDb } from '../helpers/test-db';

/**
 * A municipality code names a municipality, not one of its units: the jobcentre and the municipal home-care unit
 * may both carry it. Lookups by such an identifier must pick by kind of organisation or refuse, never take the first.
 * The ids are chosen so that the home-care unit sorts first (the order a first-match lookup would have used).
 */
const MUNICIPALITY = { system: SYSTEM.municipality, value: '0101' };

const organisation = (id: string, name: string, identifier: Organization['identifier']) => ({
  resource: {
    resourceType: 'Organization',
    id,
    name,
    active: true,
    identifier,
    type: [{ coding: [{ system: SYSTEM.sector, code: 'municipality' }] }],
    endpoint: [{ reference: `Endpoint/${id}-ep` }],
  },
});
const endpoint = (id: string, address: string) => ({
  resource: {
    resourceType: 'Endpoint',
    id: `${id}-ep`,
    status: 'active',
    connectionType: { system: SYSTEM.endpointConnectionType, code: 'hl7-fhir-msg' },
    payloadType: [{ text: 'any' }],
    address,
  },
});
const batch = (...entry: unknown[]) => ({ resourceType: 'Bundle', type: 'batch', entry });

describe('directory lookups by a shared municipality code', () => {
  let db: Db;
  beforeAll(async () => {
    db = await createTestDb();
    await importDirectoryBundle(
      db,
      batch(
        organisation('b-jobcentre', 'Jobcenter Testby', [MUNICIPALITY]),
        endpoint('b-jobcentre', 'http://jc.test/fhir'),
      ),
    );
    await importDirectoryBundle(
      db,
      batch(
        organisation('a-homecare', 'Hjemmeplejen Testby', [
          { system: SYSTEM.sor, value: '953741000016009' },
          MUNICIPALITY,
        ]),
        endpoint('a-homecare', 'http://homecare.test/fhir'),
      ),
    );
  });
  afterAll(async () => {
    await db.close();
  });

  it('keeps the two organisations apart when they are loaded', async () => {
    const rows = await db.query<{ id: string }>('SELECT id FROM organizations ORDER BY id');
    expect(rows.map((r) => r.id)).toEqual(['a-homecare', 'b-jobcentre']);
  });

  it('finds the jobcentre (not the home-care unit that sorts first) by the municipality code', async () => {
    expect((await findOrganizationByIdentifier(db, MUNICIPALITY))?.id).toBe('b-jobcentre');
    const { org, endpoint: ep } = await findOrganizationEndpoint(db, MUNICIPALITY);
    expect(org?.id).toBe('b-jobcentre');
    expect(ep?.address).toBe('http://jc.test/fhir');
    expect(await organisationName(db, MUNICIPALITY)).toBe('Jobcenter Testby');
  });

  it('finds the care unit by the same code when the caller asks for a health-care provider', async () => {
    expect((await findOrganizationByIdentifier(db, MUNICIPALITY, 'prov'))?.id).toBe('a-homecare');
  });

  it('re-loading the jobcentre by municipality code updates the jobcentre, not the home-care unit', async () => {
    const res = await importDirectoryBundle(
      db,
      batch(
        organisation('x-new', 'Jobcenter Testby (ny)', [MUNICIPALITY]),
        endpoint('b-jobcentre', 'http://jc.test/fhir'),
      ),
    );
    expect(res.entry?.[0]?.response?.location).toBe('Organization/b-jobcentre');
    const home = await db.query<{ name: string }>("SELECT name FROM organizations WHERE id = 'a-homecare'");
    expect(home[0]?.name).toBe('Hjemmeplejen Testby');
  });

  it('refuses with an OperationOutcome when two organisations of the same kind share the code', async () => {
    await db.query(
      "INSERT INTO organizations (id, sor, name, resource) VALUES ('c-jobcentre', NULL, 'Jobcenter Andetby', $1::jsonb)",
      [
        JSON.stringify({
          resourceType: 'Organization',
          id: 'c-jobcentre',
          name: 'Jobcenter Andetby',
          identifier: [MUNICIPALITY],
        }),
      ],
    );
    const refused = await findOrganizationByIdentifier(db, MUNICIPALITY).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(GatewayError);
    const error = refused as GatewayError;
    expect(error.status).toBe(422);
    expect(error.outcome.issue[0]?.details?.coding?.[0]?.code).toBe('ambiguous-recipient');
    expect(error.outcome.issue[0]?.diagnostics).toContain('0101');
    // Display lookups show no name rather than a wrong one.
    expect(await organisationName(db, MUNICIPALITY)).toBeUndefined();
    const reload = await importDirectoryBundle(db, batch(organisation('y', 'Jobcenter', [MUNICIPALITY]))).catch(
      (e: unknown) => e,
    );
    expect((reload as GatewayError).outcome.issue[0]?.details?.coding?.[0]?.code).toBe('ambiguous-recipient');
    await db.query("DELETE FROM organizations WHERE id = 'c-jobcentre'");
  });
});
