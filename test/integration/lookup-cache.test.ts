import { createLookupCache } from '../../src/cache/lookup-cache';
import { activeConsentsFor, insertConsent, updateConsent } from '../../src/consent/consent-store';
import { findListedGp } from '../../src/directory/directory';
import { importDirectoryBundle } from '../../src/directory/import-directory';
import { createLogger } from '../../src/observability/logger';
import { outboundPolicy } from '../../src/outbound/address-policy';
import { SYSTEM } from '../../src/mappers/systems';
import type { Db } from '../../src/store/db';
import { consentFor } from '../helpers/consents';
import {
  GP_SOR,
  OTHER_GP_SOR,
  PATIENT_CPR,
  PATIENT_WITHOUT_GP_CPR,
  directoryBundle,
} from '../helpers/directory-fixture';
import { createTestDb } from '../helpers/test-db';
import { eventually } from '../helpers/test-gateway';

/**
 * The lookup cache against a real database (PGlite by default, PostgreSQL with DATABASE_URL): what a decision
 * reads through a fenced view is never older than the fence, with notifications or without them (a cache that
 * does not listen stands for a replica whose notification has not arrived yet).
 */
const BY = { clientId: 'test', org: `${SYSTEM.sor}|${GP_SOR}`, role: 'admin' };
const outbound = outboundPolicy({ allowPrivate: true, allow: [], publicBaseUrl: 'http://gateway.test', port: 8080 });

describe('lookup cache', () => {
  let db: Db;
  beforeAll(async () => {
    db = await createTestDb();
    const result = await importDirectoryBundle(db, directoryBundle('http://127.0.0.1:9/gp'), outbound);
    expect(result.entry?.every((e) => /^2/.test(e.response?.status ?? ''))).toBe(true);
  });
  afterAll(async () => {
    await db.close();
  });

  it('answers again from the cache, and sees a change made elsewhere at the next fence though it heard nothing', async () => {
    const cache = createLookupCache(db, createLogger('silent'), { maxEntries: 100 });
    // Not started: no notifications reach it, only the fence can tell it about changes.
    expect(await activeConsentsFor(await cache.fresh(db), PATIENT_CPR)).toEqual([]);
    const before = cache.stats.hits;
    expect(await activeConsentsFor(await cache.fresh(db), PATIENT_CPR)).toEqual([]);
    expect(cache.stats.hits).toBe(before + 1);

    await db.transaction((tx) =>
      insertConsent(
        tx,
        {
          id: 'cache-test-1',
          patient_cpr: PATIENT_CPR,
          status: 'active',
          owner_org: null,
          resource: consentFor('deny', { system: SYSTEM.sor, value: GP_SOR }),
        },
        BY,
      ),
    );
    expect(await activeConsentsFor(await cache.fresh(db), PATIENT_CPR)).toHaveLength(1);

    const listed = await findListedGp(await cache.fresh(db), PATIENT_CPR);
    expect(listed.gp?.sor).toBe(GP_SOR);
    await db.query(
      'UPDATE patients SET gp_organization_id = (SELECT id FROM organizations WHERE sor = $1) WHERE cpr = $2',
      [OTHER_GP_SOR, PATIENT_CPR],
    );
    expect((await findListedGp(await cache.fresh(db), PATIENT_CPR)).gp?.sor).toBe(OTHER_GP_SOR);
  });

  it("drops only the changed patient's consents when it hears the notification", async () => {
    const cache = createLookupCache(db, createLogger('silent'), { maxEntries: 100 });
    await cache.start();
    try {
      const view = await cache.fresh(db);
      await activeConsentsFor(view, PATIENT_CPR);
      await activeConsentsFor(view, PATIENT_WITHOUT_GP_CPR);
      await db.transaction((tx) =>
        updateConsent(
          tx,
          'cache-test-1',
          {
            resource: { ...consentFor('deny', { system: SYSTEM.sor, value: GP_SOR }), status: 'inactive' },
            status: 'inactive',
            ownerOrg: null,
            action: 'withdraw',
          },
          1,
          BY,
        ),
      );
      // Whether or not the notification has arrived yet, the next fenced view sees the withdrawal.
      expect(await activeConsentsFor(await cache.fresh(db), PATIENT_CPR)).toEqual([]);
      // Once it has arrived, a change to one patient's consents leaves the other patient's entry cached.
      const otherPatient = await activeConsentsFor(await cache.fresh(db), PATIENT_WITHOUT_GP_CPR);
      // Counted before the change: PGlite delivers its notification before the commit's promise resolves.
      const drops = cache.stats.drops.consent;
      await db.transaction((tx) =>
        insertConsent(
          tx,
          {
            id: 'cache-test-2',
            patient_cpr: PATIENT_CPR,
            status: 'active',
            owner_org: null,
            resource: consentFor('deny', { system: SYSTEM.sor, value: GP_SOR }),
          },
          BY,
        ),
      );
      await eventually(
        () => Promise.resolve(cache.stats.drops.consent > drops ? true : undefined),
        10000,
        'the notification',
      );
      const hits = cache.stats.hits;
      expect(await activeConsentsFor(await cache.fresh(db), PATIENT_WITHOUT_GP_CPR)).toEqual(otherPatient);
      expect(cache.stats.hits).toBe(hits + 1);
      expect(await activeConsentsFor(await cache.fresh(db), PATIENT_CPR)).toHaveLength(1);
    } finally {
      await cache.stop();
    }
  });

  it('is the database itself when turned off', async () => {
    const cache = createLookupCache(db, createLogger('silent'), { maxEntries: 0 });
    expect(await cache.fresh(db)).toBe(db);
  });
});
