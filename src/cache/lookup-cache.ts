import type { Logger } from '../observability/logger';
import type { Db, Queryable } from '../store/db';

/**
 * Directory and consent lookups cached in the process, correct across processes (issue 16).
 *
 * Every change to the directory or to a consent bumps its domain's version in `cache_versions` and NOTIFYs it
 * (triggers, migrations/013). This cache listens and drops what changed: a patient's consents, or the whole
 * directory. Notifications arrive a moment after the writer's commit, so they alone cannot promise that a
 * change made through replica A is seen by replica B's next decision. A decision therefore starts from a
 * fence: the current versions, read in a statement the decision makes anyway (or one small SELECT). When the
 * cache has not yet heard of a version that the database has, that domain is dropped before the decision
 * reads it, so every decision sees every change committed before its fence. The notifications keep that rare.
 *
 * Entries are keyed by statement and parameters and hold rows; a caller gets its own copy (a cached object
 * must not change under another request). An entry fetched while its domain was invalidated is not kept.
 */
export type CacheDomain = 'directory' | 'consent';
export const CACHE_DOMAINS: readonly CacheDomain[] = ['directory', 'consent'];
/** The NOTIFY channel the triggers of migrations/013 send on; the payload names the schema. */
export const CACHE_CHANNEL = 'sektorbro_cache';

/** Each domain's version as the database had it at one moment (`cache_versions`). */
export type CacheVersions = Readonly<Record<CacheDomain, number>>;

/** The SQL expression that reads every version as one JSON object, to fold into a statement a caller makes anyway. */
export const CACHE_VERSIONS_SQL = '(SELECT json_object_agg(domain, version) FROM cache_versions)';

/**
 * A Queryable for one decision: plain queries go to the database, `lookup` may answer from the cache. Pass it
 * where a `Queryable` is taken; lookups written with `cachedQuery` use the cache through it, others never.
 */
export interface CachedView extends Queryable {
  lookup<T>(domain: CacheDomain, tag: string | undefined, sql: string, params: readonly unknown[]): Promise<T[]>;
}

/**
 * A lookup that the cache may answer when `db` is a CachedView, else a plain query (inside a transaction,
 * or where no cache is configured). `tag` groups the entries one notification drops (the consent domain
 * tags by CPR number); undefined means the entry is dropped with its whole domain.
 */
export function cachedQuery<T>(
  db: Queryable,
  domain: CacheDomain,
  tag: string | undefined,
  sql: string,
  params: readonly unknown[],
): Promise<T[]> {
  const view = db as Partial<CachedView>;
  return typeof view.lookup === 'function' ? view.lookup<T>(domain, tag, sql, params) : db.query<T>(sql, params);
}

interface DomainState {
  /** Every change up to this version has been dropped from `entries`; -1 when unknown (never fenced, or a gap). */
  version: number;
  /** Bumped on every drop: a fetch that started before it must not store what it read. */
  epoch: number;
  /** tag → (statement key → rows); Map order is least recently used first. */
  entries: Map<string, Map<string, unknown[]>>;
  size: number;
}

export interface LookupCacheStats {
  hits: number;
  misses: number;
  drops: Record<CacheDomain, number>;
}

export interface LookupCache {
  /** A view fenced by the versions the database has now (one small SELECT). */
  fresh(db: Queryable): Promise<Queryable>;
  /** A view fenced by versions read earlier in a statement of the caller's (CACHE_VERSIONS_SQL). */
  at(db: Queryable, versions: unknown): Queryable;
  /** Start listening for invalidations (no-op when the Db cannot listen). */
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly stats: LookupCacheStats;
}

/**
 * `maxEntries` bounds each domain (least recently used goes first); 0 turns caching off, and views are then
 * the database itself.
 */
export function createLookupCache(db: Db, logger: Logger, options: { maxEntries: number }): LookupCache {
  const domains: Record<CacheDomain, DomainState> = {
    directory: { version: -1, epoch: 0, entries: new Map(), size: 0 },
    consent: { version: -1, epoch: 0, entries: new Map(), size: 0 },
  };
  const stats: LookupCacheStats = { hits: 0, misses: 0, drops: { directory: 0, consent: 0 } };
  let schema: string | undefined;
  let unlisten: (() => Promise<void>) | undefined;
  const enabled = options.maxEntries > 0;

  const dropAll = (d: CacheDomain): void => {
    const state = domains[d];
    state.entries.clear();
    state.size = 0;
    state.epoch++;
    stats.drops[d]++;
  };
  const dropTag = (d: CacheDomain, tag: string): void => {
    const state = domains[d];
    const group = state.entries.get(tag);
    if (group) {
      state.size -= group.size;
      state.entries.delete(tag);
    }
    state.epoch++;
    stats.drops[d]++;
  };

  /** Bring a domain up to a version the database has: drop it all unless every change up to it was heard. */
  const fence = (versions: unknown): void => {
    const v = (versions ?? {}) as Partial<Record<CacheDomain, unknown>>;
    for (const d of CACHE_DOMAINS) {
      const known = Number(v[d]);
      if (!Number.isFinite(known)) {
        // No version row (a database without migrations/013 applied): nothing can be trusted.
        dropAll(d);
        domains[d].version = -1;
        continue;
      }
      if (domains[d].version < known) {
        dropAll(d);
        domains[d].version = known;
      }
    }
  };

  const onNotify = (payload: string): void => {
    let n: { schema?: unknown; domain?: unknown; version?: unknown; key?: unknown };
    try {
      n = JSON.parse(payload) as typeof n;
    } catch {
      return;
    }
    // LISTEN is per database; the tests (and some deployments) keep several schemas in one.
    if (n.schema !== schema || (n.domain !== 'directory' && n.domain !== 'consent')) {
      return;
    }
    const d = n.domain;
    const state = domains[d];
    const version = Number(n.version);
    if (!Number.isFinite(version) || version <= state.version) {
      return;
    }
    if (version === state.version + 1 && typeof n.key === 'string' && d === 'consent') {
      dropTag(d, n.key);
    } else {
      // A directory change, or a gap in the versions heard: drop the domain.
      dropAll(d);
    }
    state.version = version;
  };

  const onGap = (): void => {
    for (const d of CACHE_DOMAINS) {
      dropAll(d);
      domains[d].version = -1;
    }
  };

  const lookup = async <T>(
    q: Queryable,
    d: CacheDomain,
    tag: string | undefined,
    sql: string,
    params: readonly unknown[],
  ): Promise<T[]> => {
    const state = domains[d];
    const key = `${sql}\u0000${JSON.stringify(params)}`;
    const group = tag ?? key;
    const hit = state.version >= 0 ? state.entries.get(group)?.get(key) : undefined;
    if (hit) {
      stats.hits++;
      // Most recently used last.
      const entries = state.entries.get(group);
      if (entries) {
        state.entries.delete(group);
        state.entries.set(group, entries);
      }
      return structuredClone(hit) as T[];
    }
    stats.misses++;
    const epoch = state.epoch;
    const rows = await q.query<T>(sql, params);
    if (state.epoch === epoch && state.version >= 0) {
      let entries = state.entries.get(group);
      if (!entries) {
        entries = new Map();
        state.entries.set(group, entries);
      }
      if (!entries.has(key)) {
        state.size++;
      }
      entries.set(key, structuredClone(rows));
      while (state.size > options.maxEntries) {
        const oldest = state.entries.keys().next();
        if (oldest.done) {
          break;
        }
        state.size -= state.entries.get(oldest.value)?.size ?? 0;
        state.entries.delete(oldest.value);
      }
    }
    return rows;
  };

  const viewOf = (q: Queryable): Queryable => {
    const view: CachedView = {
      query: (sql, params) => q.query(sql, params),
      exec: (sql) => q.exec(sql),
      lookup: (d, tag, sql, params) => lookup(q, d, tag, sql, params),
    };
    return view;
  };

  return {
    stats,
    async fresh(q) {
      if (!enabled) {
        return q;
      }
      const rows = await q.query<{ versions: unknown }>(`SELECT ${CACHE_VERSIONS_SQL} AS versions`);
      fence(rows[0]?.versions);
      return viewOf(q);
    },
    at(q, versions) {
      if (!enabled) {
        return q;
      }
      fence(versions);
      return viewOf(q);
    },
    async start() {
      if (!enabled || !db.listen) {
        return;
      }
      schema = (await db.query<{ schema: string }>('SELECT current_schema() AS schema'))[0]?.schema;
      unlisten = await db.listen(CACHE_CHANNEL, { onNotify, onGap });
      logger.debug({ schema, maxEntries: options.maxEntries }, 'lookup cache listening for invalidations');
    },
    async stop() {
      await unlisten?.();
      unlisten = undefined;
    },
  };
}
