#!/usr/bin/env node
/**
 * The npm registry mirror on our build machines lacks some other-platform optional binaries (e.g.
 * @msgpackr-extract/*-darwin-arm64 at the version msgpackr wants). `npm install` then leaves them out of
 * package-lock.json and `npm ci` refuses the lockfile as out of sync. This adds the missing entries the way
 * npm writes them from a complete registry: optional, with the os/cpu that keep them from installing here.
 * Run after `npm install` changes the lockfile: `node scripts/complete-lockfile.mjs`.
 */
import { execSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

let output = '';
try {
  execSync('npm ci --dry-run --ignore-scripts --no-audit --no-fund', { stdio: 'pipe' });
} catch (e) {
  output = String(e.stderr ?? '') + String(e.stdout ?? '');
}
const missing = [...output.matchAll(/Missing: (\S+?)@\S* from lock file/g)].map((m) => m[1]);
if (missing.length === 0) {
  console.log('package-lock.json is complete');
  process.exit(0);
}
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
const OSES = ['darwin', 'linux', 'win32', 'freebsd', 'android', 'openharmony', 'sunos', 'aix'];
const CPUS = ['arm64', 'x64', 'ia32', 'arm', 'ppc64', 'riscv64', 's390x', 'loong64', 'wasm32'];
for (const name of missing) {
  const parent = Object.values(lock.packages).find((p) => p.optionalDependencies?.[name]);
  if (!parent) {
    console.error(`${name}: no package lists it as an optional dependency; fix the lockfile by hand`);
    process.exit(1);
  }
  const base = name.split('/').pop();
  const os = OSES.find((o) => base.includes(o));
  const cpu = CPUS.find((c) => new RegExp(`-${c}(-|$)`).test(base));
  lock.packages[`node_modules/${name}`] = {
    version: parent.optionalDependencies[name].replace(/^[\^~=]/, ''),
    optional: true,
    ...(os ? { os: [os] } : {}),
    ...(cpu ? { cpu: [cpu] } : {}),
  };
  console.log(`added ${name} (${os ?? 'any os'}/${cpu ?? 'any cpu'})`);
}
writeFileSync('package-lock.json', `${JSON.stringify(lock, null, 2)}\n`);
