import type { Narrative } from 'fhir/r4';
import { escapeXml } from '../errors';

/** A generated narrative from plain lines of text (each becomes a paragraph; blank lines are dropped). */
export function narrative(...lines: Array<string | undefined | null | false>): Narrative {
  const body = lines
    .filter((l): l is string => typeof l === 'string' && l.trim() !== '')
    .map((l) => `<p>${escapeXml(l).replace(/\n/g, '<br/>')}</p>`)
    .join('');
  return { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${body || '<p>(no text)</p>'}</div>` };
}

/** A generated narrative listing items. */
export function narrativeList(heading: string, items: string[]): Narrative {
  const list = items.map((i) => `<li>${escapeXml(i)}</li>`).join('');
  return {
    status: 'generated',
    div: `<div xmlns="http://www.w3.org/1999/xhtml"><p>${escapeXml(heading)}</p><ul>${list}</ul></div>`,
  };
}
