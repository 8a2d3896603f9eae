import { controlCharacterAt } from '../../../src/http/control-characters';
import { maskCpr, maskPath, safeError } from '../../../src/observability/log-safety';

/** What keeps CPR numbers and clinical text out of logs and out of the database, table-driven. */
describe('log safety', () => {
  it.each([
    ['/patients/0101901234/disclosures', '/patients/**********/disclosures'],
    ['cpr 010190-1234.', 'cpr **********.'],
    ['CPR0101901234', 'CPR**********'],
    ['line\\n0101901234', 'line\\n**********'],
    [
      'SOR 265161000016004, GLN 5790000123456, time 1764412345678',
      'SOR 265161000016004, GLN 5790000123456, time 1764412345678',
    ],
    ['request a1b2c3d4-1234-4abc-8def-ab1234567890', 'request a1b2c3d4-1234-4abc-8def-ab1234567890'],
  ])('masks CPR-shaped numbers in %s', (text, masked) => {
    expect(maskCpr(text)).toBe(masked);
  });

  it('decodes a path before masking it', () => {
    expect(maskPath('/fhir/Patient/urn%3Aoid%3A1.2.208.176.1.2%7C0101901234')).toBe(
      '/fhir/Patient/urn:oid:1.2.208.176.1.2|**********',
    );
  });

  it('keeps what classifies a database error and drops its values (params, detail, where, quoted text)', () => {
    const e = Object.assign(new Error('invalid input syntax for type integer: "Moderat depression"'), {
      severity: 'ERROR',
      code: '22P02',
      routine: 'pg_strtoint32_safe',
      detail: 'Key (cpr)=(0101901234) already exists.',
      where: "unnamed portal parameter $1 = '...'",
      query: 'INSERT INTO messages VALUES ($1)',
      params: ['{"patient":"0101901234"}'],
      cause: { message: 'value "Moderat" for 0101901234' },
    });
    const safe = safeError(e) as Record<string, unknown>;
    expect(Object.keys(safe).sort()).toEqual([
      'cause',
      'code',
      'message',
      'name',
      'routine',
      'severity',
      'stack',
      'type',
    ]);
    expect(safe.message).toBe('invalid input syntax for type integer: "…"');
    expect(JSON.stringify(safe)).not.toMatch(/Moderat|0101901234/);
  });
});

describe('control characters in JSON bodies', () => {
  it.each([
    [{ a: 'ok\tok\r\nok' }, undefined],
    [{ a: 'x\u0000' }, 'a'],
    [{ a: [{ b: 'x' }, { 'c-d': '\u001f' }] }, 'a[1]["c-d"]'],
    [{ resourceType: 'Patient', name: [{ family: 'A\u000b' }] }, 'Patient.name[0].family'],
    [{ 'k\u0001': 1 }, 'body (a property name)'],
    [{ a: '\udc00' }, 'a'],
    [{ a: '😀 emoji is a surrogate pair' }, undefined],
  ])('finds the first forbidden character in %j at %s', (body, at) => {
    expect(controlCharacterAt(body)).toBe(at);
  });
});
