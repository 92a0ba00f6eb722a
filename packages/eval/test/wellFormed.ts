/**
 * Test helper: a tiny well-formedness check for the SVG/HTML the report functions produce.
 * Every `<` must open a tag (or a comment / doctype), tags must nest and close in order
 * (HTML void elements excepted in `html` mode), attribute values must be quoted, and every `&`
 * must start an entity. Returns the problem, or null when the markup is well-formed.
 */
const VOID = new Set(['meta', 'br', 'img', 'link', 'hr', 'input', 'source', 'col', 'area', 'base', 'wbr']);

export function wellFormed(markup: string, mode: 'xml' | 'html' = 'xml'): string | null {
  const stack: string[] = [];
  const tag = /^<(\/?)([a-zA-Z][\w:.-]*)((?:\s+[^\s=/>"']+(?:\s*=\s*(?:"[^"<]*"|'[^'<]*'))?)*)\s*(\/?)>/;
  let i = 0;
  while (i < markup.length) {
    const ch = markup[i];
    if (ch === '&') {
      if (!/^&(#\d+|#x[0-9a-f]+|[a-z]+);/i.test(markup.slice(i, i + 12))) return `bare & at ${i}`;
      i++;
      continue;
    }
    if (ch !== '<') {
      if (ch === '>') return `bare > at ${i}`;
      i++;
      continue;
    }
    const rest = markup.slice(i);
    if (rest.startsWith('<!--')) {
      const end = rest.indexOf('-->');
      if (end < 0) return 'unterminated comment';
      i += end + 3;
      continue;
    }
    if (/^<!doctype html>/i.test(rest)) {
      i += 15;
      continue;
    }
    const m = tag.exec(rest);
    if (!m) return `malformed tag at ${i}: ${rest.slice(0, 40)}`;
    const [all, closing, name, , selfClosing] = m;
    const lower = name.toLowerCase();
    if (closing) {
      const open = stack.pop();
      if (open !== name) return `</${name}> closes <${open}> at ${i}`;
    } else if (!selfClosing && !(mode === 'html' && VOID.has(lower))) {
      stack.push(name);
    }
    i += all.length;
    // Raw text elements: skip to their end tag.
    if (!closing && (lower === 'style' || lower === 'script')) {
      const end = markup.indexOf(`</${name}>`, i);
      if (end < 0) return `unterminated <${name}>`;
      i = end;
    }
  }
  return stack.length ? `unclosed <${stack.join('> <')}>` : null;
}
