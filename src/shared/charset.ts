// Windows-1252 differs from ISO-8859-1 in 0x80–0x9F. Node's TextDecoder('windows-1252') decodes those bytes as
// ISO-8859-1 does (C1 controls), so € (0x80) would be lost; this table is the WHATWG encoding standard's. The five
// bytes it leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) map to the C1 control of the same value, as WHATWG says.
const HIGH = [
  0x20ac, 0x81, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8d, 0x017d,
  0x8f, 0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x9d,
  0x017e, 0x0178,
].map((c) => String.fromCharCode(c));

const C1 = /[\u0080-\u009f]/g;
const HAS_C1 = /[\u0080-\u009f]/;

/** Windows-1252 bytes to text; every byte is a character, so nothing is ever invalid. */
export function decodeWindows1252(bytes: Buffer): string {
  const text = bytes.toString('latin1');
  return HAS_C1.test(text) ? text.replace(C1, (c) => HIGH[c.charCodeAt(0) - 0x80]!) : text;
}

/** The `charset` parameter of a Content-Type, lowercased; undefined when none is given. */
export function charsetOf(contentType: string | undefined): string | undefined {
  const match = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '');
  return match?.[1]?.toLowerCase();
}
