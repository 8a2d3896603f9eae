import sax from 'sax';

/**
 * FHIR R4 narrative rules for `Narrative.div` (https://hl7.org/fhir/R4/narrative.html#Narrative):
 * - txt-1: "The narrative SHALL contain only the basic html formatting elements and attributes described in
 *   chapters 7-11 (except section 4 of chapter 9) and 15 of the HTML 4.0 standard, <a> elements (either name or
 *   href), images and internally contained style attributes" — the element and attribute lists below are the
 *   ones in txt-1's XPath; no head, body, script, form, frame, object, base or link, no event attributes;
 * - txt-2: "The narrative SHALL have some non-whitespace content";
 * - the div is well-formed XHTML: one root `div` in the XHTML namespace, only the five XML entities.
 * The gateway also refuses what a reader's viewer would fetch or run from elsewhere: an image whose `src` is not
 * inside the resource (`#id`) or a `data:image/…` URI, a link that is not `#…`, http(s), mailto or tel, and a `style`
 * that loads anything (`url(`, `@import`, `expression(`).
 * Parsed with sax (strict XML mode), never with regular expressions.
 */
const ELEMENTS = new Set([
  'a', 'abbr', 'acronym', 'b', 'big', 'blockquote', 'br', 'caption', 'cite', 'code', 'col', 'colgroup', 'dd',
  'dfn', 'div', 'dl', 'dt', 'em', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'i', 'img', 'li', 'ol', 'p', 'pre',
  'q', 'samp', 'small', 'span', 'strong', 'sub', 'sup', 'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'tr', 'tt',
  'ul', 'var',
]); // prettier-ignore

const ATTRIBUTES = new Set([
  'abbr', 'accesskey', 'align', 'alt', 'axis', 'bgcolor', 'border', 'cellhalign', 'cellpadding', 'cellspacing',
  'cellvalign', 'char', 'charoff', 'charset', 'cite', 'class', 'colspan', 'compact', 'coords', 'dir', 'frame',
  'headers', 'height', 'href', 'hreflang', 'hspace', 'id', 'lang', 'longdesc', 'name', 'nowrap', 'rel', 'rev',
  'rowspan', 'rules', 'scope', 'shape', 'span', 'src', 'start', 'style', 'summary', 'tabindex', 'title', 'type',
  'valign', 'value', 'vspace', 'width', 'xmlns', 'xml:lang',
]); // prettier-ignore

const XHTML_NS = 'http://www.w3.org/1999/xhtml';

/** A link a reader may follow: inside the document, or an ordinary web, mail or telephone address. */
// A relative reference (no scheme: another page of the same publication, as IG-generated narratives link) is a
// link, not active content. tel: (RFC 3966) only dials: MedCom's own test messages link the sender's phone number
// that way. Any other scheme (javascript:, data:, vbscript:, file:…) is refused.
const SAFE_LINK = /^(#|https?:\/\/|mailto:|tel:[+0-9()./ -]+$|(?![a-z][a-z0-9+.-]*:)[^\s:]*(?:[/?#][^\s]*)?$)/i;
/** An image shown from inside the resource or Bundle, never fetched from elsewhere. */
const SAFE_IMAGE = /^(#|data:image\/(png|jpeg|gif);base64,)/i;
/** CSS that loads or runs something. */
const ACTIVE_STYLE = /url\s*\(|@import|expression\s*\(|javascript:|behavior\s*:|-moz-binding/i;

/** Why a narrative is refused, in plain words, or undefined when it keeps the FHIR narrative rules. */
export function narrativeProblem(div: string): string | undefined {
  // strictEntities: only the five XML entities (FHIR narrative forbids HTML ones such as &nbsp;); sax has the
  // option, its type declarations do not.
  const options: sax.SAXOptions & { strictEntities: boolean } = { xmlns: true, strictEntities: true };
  const parser = sax.parser(true, options);
  const problems: string[] = [];
  let depth = 0;
  let roots = 0;
  let content = false;
  parser.onopentag = (tag) => {
    const node = tag as sax.QualifiedTag;
    const name = node.local;
    if (depth === 0) {
      roots++;
      if (name !== 'div' || node.uri !== XHTML_NS) {
        problems.push(`the narrative must be one <div xmlns="${XHTML_NS}"> element`);
      }
    } else if (node.uri !== XHTML_NS) {
      problems.push(`<${node.name}> is not in the XHTML namespace`);
    }
    depth++;
    if (!ELEMENTS.has(name)) {
      problems.push(
        [
          'script',
          'form',
          'input',
          'button',
          'iframe',
          'frame',
          'object',
          'embed',
          'link',
          'base',
          'style',
          'meta',
        ].includes(name)
          ? `<${name}> is active or external content, which a narrative must not carry (txt-1)`
          : `<${name}> is not one of the basic XHTML elements a narrative may use (txt-1)`,
      );
    }
    for (const attr of Object.values(node.attributes)) {
      const attrName = attr.prefix ? `${attr.prefix}:${attr.local}` : attr.local;
      if (attr.prefix === 'xmlns') {
        continue;
      }
      if (/^on/i.test(attr.local)) {
        problems.push(`the event attribute ${attrName} on <${name}> is active content (txt-1)`);
      } else if (!ATTRIBUTES.has(attrName)) {
        problems.push(`the attribute ${attrName} on <${name}> is not allowed in a narrative (txt-1)`);
      } else if (attrName === 'href' && !SAFE_LINK.test(attr.value.trim())) {
        problems.push(
          `<${name} href="${attr.value.slice(0, 60)}">: a link must be #…, relative, http(s), mailto or tel`,
        );
      } else if (attrName === 'src' && !SAFE_IMAGE.test(attr.value.trim())) {
        problems.push(`<${name} src>: an image must come from inside the resource (#id or a data:image URI)`);
      } else if (attrName === 'style' && ACTIVE_STYLE.test(attr.value)) {
        problems.push(`<${name} style>: a style must not load or run anything`);
      }
    }
    if (name === 'img' && node.attributes.src) {
      content = true;
    }
  };
  parser.onclosetag = () => {
    depth--;
  };
  parser.ontext = (text) => {
    if (text.trim() !== '') {
      if (depth === 0) {
        problems.push('text outside the root <div>');
      }
      content = true;
    }
  };
  parser.oncdata = () => {
    problems.push('CDATA sections are not allowed in a narrative');
  };
  parser.onprocessinginstruction = () => {
    problems.push('processing instructions are not allowed in a narrative');
  };
  parser.ondoctype = () => {
    problems.push('a DOCTYPE is not allowed in a narrative');
  };
  try {
    parser.write(div).close();
  } catch (e) {
    return `not well-formed XHTML (${(e as Error).message.split('\n')[0] ?? 'parse error'})`;
  }
  if (roots !== 1 && problems.length === 0) {
    problems.push('the narrative must be exactly one <div> element');
  }
  if (!content && problems.length === 0) {
    problems.push('the narrative has no text (txt-2)');
  }
  return problems.length > 0 ? [...new Set(problems)].slice(0, 3).join('; ') : undefined;
}
