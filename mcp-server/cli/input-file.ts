import { createReadStream, statSync } from "node:fs";
import type { Readable } from "node:stream";
import { quote } from "../core/clip.js";
import { InvalidInputError } from "../core/errors.js";

/**
 * An NDJSON input: stdin for "-", else the file, checked before reading so a wrong path is bad
 * input (exit 2) naming the flag, not a stream error that crashes with a stack trace.
 */
export function openInput(file: string, field: string): Readable {
  if (file === "-") return process.stdin;
  let isFile: boolean;
  try {
    isFile = statSync(file).isFile();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InvalidInputError(
      field,
      code === "ENOENT"
        ? `no such file ${quote(file)}; give the path of an NDJSON file, or - for stdin`
        : `cannot read ${quote(file)} (${code ?? "unreadable"})`,
    );
  }
  if (!isFile)
    throw new InvalidInputError(field, `${quote(file)} is not a file; give an NDJSON file, or - for stdin`);
  return createReadStream(file, { encoding: "utf8" });
}
