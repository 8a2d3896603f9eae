import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REASON_CODES } from '../../src/error-reasons';

/**
 * Every machine-readable reason the gateway puts in an OperationOutcome (issue.details.coding with the
 * sektorbro-error-codes system) is a concept of that CodeSystem in profiles/, so integrators can look it up.
 * The reasons are found in the source as `reason: '…'` in an issue (every error builder takes issues), and
 * ReasonCode, the type every builder's reason has, is the CodeSystem's list.
 */
const ROOT = join(__dirname, '..', '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function reasonsInSource(): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of sourceFiles(join(ROOT, 'src'))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\breason: '([a-z][a-z0-9-]*)'/g)) {
      found.set(m[1]!, file);
    }
  }
  return found;
}

describe('error codes', () => {
  const codeSystem = JSON.parse(readFileSync(join(ROOT, 'profiles/CodeSystem-sektorbro-error-codes.json'), 'utf8')) as {
    concept: Array<{ code: string }>;
    count?: number;
  };
  const defined = new Set(codeSystem.concept.map((c) => c.code));

  it('finds the reasons it looks for (the scan itself works)', () => {
    const reasons = reasonsInSource();
    expect(reasons.has('no-listed-gp')).toBe(true);
    expect(reasons.has('not-your-task')).toBe(true);
  });

  it('defines every reason the source uses in CodeSystem-sektorbro-error-codes', () => {
    const missing = [...reasonsInSource()]
      .filter(([code]) => !defined.has(code))
      .map(([code, file]) => `${code} (${file.slice(ROOT.length + 1)})`);
    expect(missing).toEqual([]);
  });

  it("types exactly the CodeSystem's codes as ReasonCode (a reason outside it does not compile)", () => {
    expect([...REASON_CODES].sort()).toEqual([...defined].sort());
  });

  it('keeps the CodeSystem count true', () => {
    expect(codeSystem.count).toBe(codeSystem.concept.length);
  });
});
