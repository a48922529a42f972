import { InvalidInputError } from "./errors.js";
import { formatPath } from "./policy/parse.js";
import { type Slice, sliceSchema } from "./slice.js";

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
