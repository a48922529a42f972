// Error messages quote what the caller sent so they can find it, but never a whole 4 000-character
// value: a quote longer than this is cut, with its full length said.
const MAX_QUOTE = 80;

/** `JSON.stringify(value)`, cut to about 80 characters. */
export function quote(value: unknown, max = MAX_QUOTE): string {
  const text = typeof value === "string" ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return clip(text, max);
}

/** `text` cut to `max` characters, saying how long it was. */
export function clip(text: string, max = MAX_QUOTE): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
}
