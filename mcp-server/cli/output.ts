import { z } from "zod";
import { InvalidInputError, RefusedError } from "../core/errors.js";

/** Exit codes (CONTRACT.md section 5). */
export const EXIT = {
  ok: 0,
  internal: 1,
  badInput: 2,
  refused: 3,
  integrity: 4,
  hold: 10,
  rollback: 20,
} as const;

export class UsageError extends Error {}

export function useColor(stream: NodeJS.WriteStream = process.stdout): boolean {
  return Boolean(stream.isTTY) && !process.env.NO_COLOR && process.env.TERM !== "dumb";
}

const codes = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const;
export function paint(color: keyof typeof codes, text: string): string {
  return useColor() ? `\u001b[${codes[color]}m${text}\u001b[0m` : text;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A fixed-width table for people. */
export function table(headers: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? "-" : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]?.length ?? 0)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}

/** Maps an error to its exit code and prints it (as JSON with --json). */
export function reportError(error: unknown, json: boolean): number {
  let code: number = EXIT.internal;
  let kind = "internal_error";
  let field: string | undefined;
  let message = error instanceof Error ? error.message : String(error);
  if (error instanceof UsageError) {
    code = EXIT.badInput;
    kind = "usage";
  } else if (error instanceof InvalidInputError) {
    code = EXIT.badInput;
    kind = "invalid_input";
    field = error.field;
    message = `${error.field}: ${error.message}`;
  } else if (error instanceof RefusedError) {
    code = EXIT.refused;
    kind = "refused";
    field = error.rule;
    message = `refused (${error.rule}): ${error.message}`;
  } else if (error instanceof z.ZodError) {
    code = EXIT.badInput;
    kind = "invalid_input";
    message = error.issues.map((i) => `${i.path.join(".") || "(input)"}: ${i.message}`).join("; ");
  }
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ error: { kind, ...(field ? { field } : {}), message } }, null, 2)}\n`,
    );
  }
  process.stderr.write(`canary: ${message}\n`);
  return code;
}
