import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { sharedPath } from '../shared-dir';

/**
 * The FHIR packages in ../shared/medcom (npm-style .tgz: gzip around a ustar archive, every file under
 * `package/`), read in memory so nothing is copied into the project. A package is small (at most a few MB), so
 * the whole archive is inflated at once.
 */
export interface FhirPackage {
  /** e.g. medcom.fhir.dk.carecommunication-5.0.2 */
  readonly id: string;
  /** Path inside the archive (without the leading `package/`) to the parsed JSON file. */
  readonly files: ReadonlyMap<string, unknown>;
}

const cache = new Map<string, FhirPackage>();

/** Reads `../shared/medcom/<id>.tgz` once per process and parses every .json file in it. */
export function readPackage(id: string): FhirPackage {
  const done = cache.get(id);
  if (done) {
    return done;
  }
  const files = new Map<string, unknown>();
  for (const [name, bytes] of untar(gunzipSync(readFileSync(sharedPath('medcom', `${id}.tgz`))))) {
    if (name.endsWith('.json')) {
      files.set(name.replace(/^package\//, ''), JSON.parse(bytes.toString('utf8')) as unknown);
    }
  }
  const pkg = { id, files };
  cache.set(id, pkg);
  return pkg;
}

/** FHIR resources of a package in a folder (`''` for the package root, `example`, `other`...), by file name. */
export function resourcesIn(
  pkg: FhirPackage,
  folder: string,
): Array<{ file: string; resource: Record<string, unknown> }> {
  const prefix = folder ? `${folder}/` : '';
  return [...pkg.files.entries()]
    .filter(([name]) => name.startsWith(prefix) && !name.slice(prefix.length).includes('/'))
    .map(([file, json]) => ({ file, resource: json as Record<string, unknown> }))
    .filter((f) => typeof f.resource.resourceType === 'string');
}

/**
 * Minimal tar reader: 512-byte headers (name at 0, size in octal at 124, type flag at 156, ustar prefix at
 * 345), PAX extended headers ('x') for long names, GNU long names ('L'). Only regular files are returned.
 */
function untar(archive: Buffer): Array<[string, Buffer]> {
  const files: Array<[string, Buffer]> = [];
  let offset = 0;
  let longName: string | undefined;
  while (offset + 512 <= archive.length) {
    const header = archive.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) {
      break;
    }
    const field = (start: number, length: number): string =>
      header
        .subarray(start, start + length)
        .toString('utf8')
        .replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1) || '0';
    const prefix = field(257, 6).startsWith('ustar') ? field(345, 155) : '';
    const name = longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    const body = archive.subarray(offset + 512, offset + 512 + size);
    longName = undefined;
    if (type === 'x') {
      longName = /\d+ path=([^\n]*)\n/.exec(body.toString('utf8'))?.[1];
    } else if (type === 'L') {
      longName = body.toString('utf8').replace(/\0.*$/s, '');
    } else if (type === '0' || type === '7') {
      files.push([name, Buffer.from(body)]);
    }
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}
