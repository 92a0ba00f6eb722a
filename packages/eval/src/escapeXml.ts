/**
 * Escapes text for HTML/XML content and attribute values: `&`, `<`, `>`, `"` and `'` become
 * entities. Used by the SVG and HTML reports for every user-supplied string.
 *
 * @example
 * ```ts
 * escapeXml('a < b & "c"'); // 'a &lt; b &amp; &quot;c&quot;'
 * ```
 */
export function escapeXml(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (ch) => ENTITIES[ch]);
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
