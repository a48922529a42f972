import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { InvalidInputError } from "../core/errors.js";

const POLICY_FILE_MAX = 1024 * 1024;

/** Reads a local policy file (YAML or JSON) into the object sent to the server in place of its path. */
export function policyForServer(path: string): Record<string, unknown> {
  let text: string;
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const st = fstatSync(fd);
    if (!st.isFile()) throw new InvalidInputError("--policy", `${path} is not a regular file`);
    if (st.size > POLICY_FILE_MAX)
      throw new InvalidInputError("--policy", `${path} is over ${POLICY_FILE_MAX} bytes: not a policy`);
    const buf = Buffer.alloc(st.size);
    readSync(fd, buf, 0, st.size, 0);
    text = buf.toString("utf8");
  } catch (error) {
    if (error instanceof InvalidInputError) throw error;
    throw new InvalidInputError(
      "--policy",
      `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? "unreadable"})`,
    );
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    throw new InvalidInputError(
      "--policy",
      `${path} is not valid YAML or JSON${error instanceof Error && "linePos" in error ? " (see canary policy validate)" : ""}`,
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new InvalidInputError("--policy", `${path} does not hold a policy (a mapping of fields)`);
  return value as Record<string, unknown>;
}
