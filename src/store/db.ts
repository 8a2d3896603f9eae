import { stringifyJson } from '../json/json-text';

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
  /**
   * LISTEN on `channel` (PostgreSQL NOTIFY; PGlite delivers in-process only). `onNotify` gets each payload;
   * `onGap` is called when notifications may have been missed (the listening connection was lost and has been
   * re-established). Resolves to a function that stops listening. Optional: a Db without it has no notifications.
   */
  listen?(channel: string, handlers: NotificationHandlers): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface NotificationHandlers {
  onNotify(payload: string): void;
  onGap(): void;
}

/**
 * Serialises a value for a `$n::jsonb` parameter the same way on both drivers. Numbers kept as written
 * (json-text.ts) stay as written: jsonb stores numbers as numeric, which keeps `0.60` as `0.60`.
 */
export function json(value: unknown): string {
  return stringifyJson(value);
}

/** PostgreSQL's unique_violation (23505), which PGlite reports the same way. */
export function isUniqueViolation(e: unknown): boolean {
  return (e as { code?: unknown } | null)?.code === '23505';
}
