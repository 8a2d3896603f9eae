import type { Db, Queryable } from '../../src/store/db';

/**
 * A real database behind a switch: while `down`, every call fails the way a lost PostgreSQL connection does
 * (SQLSTATE 57P01), so the gateway's own handling of an outage is what gets exercised. Nothing is mocked:
 * when up, every call reaches the real database.
 */
export interface FaultyDb extends Db {
  down: boolean;
}

export function faultyDb(real: Db): FaultyDb {
  const fail = () => Object.assign(new Error('Connection terminated unexpectedly'), { code: '57P01' });
  const guard = <T>(run: () => Promise<T>, self: FaultyDb): Promise<T> => (self.down ? Promise.reject(fail()) : run());
  const wrapped: FaultyDb = {
    down: false,
    kind: real.kind,
    query<T>(sql: string, params?: readonly unknown[]) {
      return guard(() => real.query<T>(sql, params), wrapped);
    },
    exec(sql: string) {
      return guard(() => real.exec(sql), wrapped);
    },
    transaction<T>(fn: (tx: Queryable) => Promise<T>) {
      return guard(() => real.transaction(fn), wrapped);
    },
    close: () => real.close(),
  };
  return wrapped;
}
