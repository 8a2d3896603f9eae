import { and, join, raw, sql } from '../../../src/store/sql';

describe('sql tagged template', () => {
  it('numbers parameters in order of appearance', () => {
    const q = sql`INSERT INTO t (a, b, c) VALUES (${1}, ${'two'}, ${null}::jsonb)`;
    expect(q.text).toBe('INSERT INTO t (a, b, c) VALUES ($1, $2, $3::jsonb)');
    expect(q.values).toEqual([1, 'two', null]);
  });

  it('inlines fragments and renumbers their parameters', () => {
    const cursor = sql`(d.at, d.id) < (${'2026-01-01T00:00:00.000Z'}::timestamptz, ${'id-1'}::uuid)`;
    const q = sql`SELECT 1 FROM d WHERE d.kind = ${'k'} AND ${cursor} LIMIT ${11}`;
    expect(q.text).toBe('SELECT 1 FROM d WHERE d.kind = $1 AND (d.at, d.id) < ($2::timestamptz, $3::uuid) LIMIT $4');
    expect(q.values).toEqual(['k', '2026-01-01T00:00:00.000Z', 'id-1', 11]);
  });

  it('takes a fragment at the very start or end, and fragments of fragments', () => {
    const inner = sql`x = ${1}`;
    const middle = sql`${inner} OR ${sql`y = ${2}`}`;
    const q = sql`${middle}`;
    expect(q.text).toBe('x = $1 OR y = $2');
    expect(q.values).toEqual([1, 2]);
  });

  it('keeps raw text unparameterised', () => {
    const q = sql`SELECT ${raw('id, status')} FROM deliveries WHERE id = ${'a'}`;
    expect(q.text).toBe('SELECT id, status FROM deliveries WHERE id = $1');
    expect(q.values).toEqual(['a']);
  });

  it('renders a statement without parameters as its text', () => {
    expect(sql`SELECT 1`.text).toBe('SELECT 1');
    expect(sql`SELECT 1`.values).toEqual([]);
  });
});

describe('and', () => {
  it('leaves out absent conditions and parenthesises the rest', () => {
    const kind: string | undefined = undefined;
    const q = sql`WHERE ${and(sql`a = ${1}`, kind && sql`m.kind = ${kind}`, false, sql`b = ${2} OR c = ${3}`)}`;
    expect(q.text).toBe('WHERE (a = $1) AND (b = $2 OR c = $3)');
    expect(q.values).toEqual([1, 2, 3]);
  });

  it('is TRUE when no condition is present', () => {
    expect(and(undefined, false).text).toBe('TRUE');
  });
});

describe('join', () => {
  it('joins fragments with a separator and numbers across them', () => {
    const q = sql`VALUES ${join([sql`(${1}, ${2})`, sql`(${3}, ${4})`])}`;
    expect(q.text).toBe('VALUES ($1, $2), ($3, $4)');
    expect(q.values).toEqual([1, 2, 3, 4]);
  });

  it('gives empty text for no fragments', () => {
    expect(join([]).text).toBe('');
  });
});
