/**
 * One small interface over PostgreSQL (pg) and the embedded PGlite, so the same SQL runs on both.
 * Everything the gateway stores goes through it; callers write plain parameterised SQL.
 */
export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Runs fn in one transaction: committed when fn resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Serialises a value for a `$n::jsonb` parameter the same way on both drivers. */
export function json(value: unknown): string {
  return JSON.stringify(value);
}

/** PostgreSQL's unique_violation (23505), which PGlite reports the same way. */
export function isUniqueViolation(e: unknown): boolean {
  return (e as { code?: unknown } | null)?.code === '23505';
}
