import type { NextFunction, Request, Response } from 'express';
import { errors } from '../errors';

/**
 * Refuses a parsed JSON body in which any string (value or property name) holds a control character or a lone
 * surrogate, with 400 naming the element, before any route sees it. FHIR R4 strings "SHALL NOT contain Unicode
 * character points below 32, except for u0009 (horizontal tab), u0010 (carriage return) and u0013 (line feed)"
 * (datatypes, string); the gateway's own JSON follows the same rule. PostgreSQL cannot store U+0000 in text or
 * jsonb (the insert fails, and the driver's error carries the whole row), and a lone surrogate becomes U+FFFD
 * on the way, so a message would be stored other than it was sent. One walk after parsing covers every route.
 */
const FORBIDDEN =
  // eslint-disable-next-line no-control-regex -- finding control characters is this rule's whole purpose
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Where the first forbidden character is: a FHIRPath for a FHIR resource (`Bundle.entry[0].resource.id`), a
 * dotted JSON path for native JSON (`diagnoses[1].display`), as the gateway's other errors name elements.
 */
export function controlCharacterAt(body: unknown): string | undefined {
  const root =
    body !== null && typeof body === 'object' && !Array.isArray(body)
      ? (body as { resourceType?: unknown }).resourceType
      : undefined;
  // FHIR: a FHIRPath from the resource type; native JSON: a dotted path from the top (`diagnoses[1].display`).
  return find(body, typeof root === 'string' && /^[A-Za-z]+$/.test(root) ? root : '', 0);
}

const MAX_DEPTH = 200;

function find(value: unknown, at: string, depth: number): string | undefined {
  if (typeof value === 'string') {
    return FORBIDDEN.test(value) ? at : undefined;
  }
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) {
    return undefined;
  }
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = find(item, `${at}[${i}]`, depth + 1);
      if (found) {
        return found;
      }
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    if (FORBIDDEN.test(key)) {
      return `${at || 'body'} (a property name)`;
    }
    const child = /^[A-Za-z_$][\w$]*$/.test(key) ? (at ? `${at}.${key}` : key) : `${at}[${JSON.stringify(key)}]`;
    const found = find(item, child, depth + 1);
    if (found) {
      return found;
    }
  }
  return undefined;
}

/**
 * Where the first forbidden character of an HL7 v2 message is, as an HL7 location (`OBX-5`): the segment
 * whose line holds it and the field number. Segments end in carriage returns (line feeds are taken too), so
 * those are allowed; every other control character is refused, as in JSON.
 */
export function hl7ControlCharacterAt(text: string): string | undefined {
  const match = FORBIDDEN.exec(text);
  if (!match) {
    return undefined;
  }
  const lineStart = Math.max(text.lastIndexOf('\r', match.index), text.lastIndexOf('\n', match.index)) + 1;
  const before = text.slice(lineStart, match.index);
  const segment = /^[A-Z][A-Z0-9]{2}/.exec(before)?.[0];
  if (!segment) {
    return 'body';
  }
  // MSH-1 is the field separator itself, so MSH's fields count one more.
  const field = before.split('|').length - 1 + (segment === 'MSH' ? 1 : 0);
  return field > 0 ? `${segment}-${field}` : segment;
}

/**
 * Express middleware, after the body parsers: 400 `control-character` naming the element, for a JSON body (a
 * dotted path or FHIRPath), an HL7 v2 text body (`OBX-5`), a query parameter or the path.
 */
export function refuseControlCharacters() {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const at = controlCharacterInRequest(req);
    if (at) {
      next(
        errors.invalid({
          diagnostics: `${at}: holds a control character (U+0000 to U+001F other than tab, line feed and carriage return) or a lone surrogate; such text is refused`,
          expression: at.replace(/ \(a property name\)$/, '').replace(/^query parameter /, ''),
          reason: 'control-character',
        }),
      );
      return;
    }
    next();
  };
}

function controlCharacterInRequest(req: Request): string | undefined {
  let path = req.path;
  try {
    path = decodeURIComponent(req.path);
  } catch {
    // Malformed escapes are the routes' to refuse; the raw path is checked as it is.
  }
  if (FORBIDDEN.test(path)) {
    return 'path';
  }
  for (const [name, value] of Object.entries(req.query as Record<string, unknown>)) {
    if (FORBIDDEN.test(name) || find(value, name, 0) !== undefined) {
      return `query parameter ${FORBIDDEN.test(name) ? '(a name)' : name}`;
    }
  }
  if (Buffer.isBuffer(req.body)) {
    // HL7 v2 arrives as bytes: only its MSH-18 says how they become text, and the decoding (hl7v2/charset.ts)
    // refuses control characters naming the field.
    return undefined;
  }
  if (typeof req.body === 'string') {
    return hl7ControlCharacterAt(req.body);
  }
  return typeof req.body === 'object' && req.body !== null ? controlCharacterAt(req.body) : undefined;
}
