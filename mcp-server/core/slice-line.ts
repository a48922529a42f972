import { InvalidInputError } from "./errors.js";
import { formatPath } from "./policy/parse.js";
import { SLICE_LIMITS, type Slice, sliceSchema } from "./slice.js";

/**
 * One NDJSON line as a slice (`canary ingest`, `canary replay`, shipped fixtures). Blank lines
 * give undefined; a bad line throws naming its line number and the field.
 */
export function parseSliceLine(raw: string, lineNumber: number): Slice | undefined {
  const line = raw.trim();
  if (line === "") return undefined;
  const where = `line ${lineNumber}`;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new InvalidInputError(where, "is not valid JSON (one slice object per line)");
  }
  const parsed = sliceSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidInputError(
      `${where}: ${formatPath(issue?.path ?? [])}`,
      issue?.message ?? "invalid slice",
    );
  }
  return parsed.data;
}

/**
 * Splits a stream of text chunks into lines (LF or CRLF) without ever holding more than
 * `maxBytes` of one line: a longer line is refused naming its number, instead of being buffered
 * until memory or the string limit runs out.
 */
export async function* boundedLines(
  chunks: AsyncIterable<string | Buffer>,
  maxBytes: number = SLICE_LIMITS.lineBytes,
): AsyncGenerator<string> {
  let pending = "";
  let lineNumber = 1;
  const tooLong = () =>
    new InvalidInputError(
      `line ${lineNumber}`,
      `is longer than ${maxBytes} bytes; one slice per line, and a slice that large is not a slice (split it, or merge histogram buckets)`,
    );
  for await (const chunk of chunks) {
    pending += typeof chunk === "string" ? chunk : chunk.toString("utf8");
    let start = 0;
    let nl = pending.indexOf("\n", start);
    while (nl !== -1) {
      const line = pending.slice(start, nl);
      if (line.length > maxBytes / 4 && Buffer.byteLength(line) > maxBytes) throw tooLong();
      yield line.endsWith("\r") ? line.slice(0, -1) : line;
      lineNumber++;
      start = nl + 1;
      nl = pending.indexOf("\n", start);
    }
    pending = pending.slice(start);
    // Characters are at least one byte: a partial line this long already is too long.
    if (pending.length > maxBytes) throw tooLong();
  }
  if (pending !== "") {
    if (Buffer.byteLength(pending) > maxBytes) throw tooLong();
    yield pending;
  }
}
