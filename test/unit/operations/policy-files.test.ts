import { execFileSync } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InvalidInputError, RefusedError } from "../../../mcp-server/core/errors.js";
import {
  MAX_POLICY_BYTES,
  policyDirectory,
  readUserPolicyFileSync,
  userPolicyFiles,
  withPolicyFile,
} from "../../../mcp-server/operations/policy-files.js";
import { tempDir } from "../../support/cli.js";
import { operationsContext } from "./harness.js";

// Where a policy named by path may come from: real files, directories, symlinks and a FIFO in a
// temp dir.

function layout() {
  const root = tempDir("canary-policies-");
  const dir = join(root, "policies");
  mkdirSync(join(dir, "team"), { recursive: true });
  writeFileSync(join(dir, "team", "p.yaml"), "service: a\n");
  writeFileSync(join(root, "outside.yaml"), "service: outside\n");
  symlinkSync(join(root, "outside.yaml"), join(dir, "escape.yaml"));
  symlinkSync(join(dir, "team", "p.yaml"), join(dir, "inside-link.yaml"));
  writeFileSync(join(dir, "big.yaml"), "#".repeat(MAX_POLICY_BYTES + 1));
  writeFileSync(join(dir, "exact.yaml"), "#".repeat(MAX_POLICY_BYTES));
  execFileSync("mkfifo", [join(dir, "fifo.yaml")]);
  return { root, dir };
}

async function failure(p: Promise<unknown>): Promise<InvalidInputError> {
  const e = await p.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (e instanceof InvalidInputError) return e;
  throw new Error(`expected InvalidInputError, got ${String(e)}`);
}

const DENIED =
  "over HTTP a policy path must name a regular policy file under the server's --policies directory; or pass the policy inline as an object";

describe("policy files over HTTP: only under --policies", () => {
  it("reads files under the directory, relative or absolute, and through links that stay inside", async () => {
    const { dir } = layout();
    const files = policyDirectory(dir);
    expect(await files.read("team/p.yaml")).toBe("service: a\n");
    expect(await files.read(join(dir, "team", "p.yaml"))).toBe("service: a\n");
    expect(await files.read("inside-link.yaml")).toBe("service: a\n");
    expect((await files.read("exact.yaml")).length).toBe(MAX_POLICY_BYTES);
  });

  it("refuses everything else in the same words: outside, escaping links, the root, FIFOs, missing files", async () => {
    const { root, dir } = layout();
    const files = policyDirectory(dir);
    for (const path of [
      "../outside.yaml",
      "..",
      join(root, "outside.yaml"),
      "escape.yaml",
      ".",
      "",
      "team",
      "fifo.yaml",
      "missing.yaml",
    ]) {
      const e = await failure(files.read(path));
      expect(e.field).toBe("policy");
      expect(e.message, path).toBe(`cannot read policy file ${JSON.stringify(path)}: ${DENIED}`);
    }
    const big = await failure(files.read("big.yaml"));
    expect(big.message).toBe(
      `cannot read policy file "big.yaml": a policy file is at most ${MAX_POLICY_BYTES} bytes`,
    );
  });

  it("without a directory every path is refused", async () => {
    const { dir } = layout();
    const e = await failure(policyDirectory(undefined).read(join(dir, "team", "p.yaml")));
    expect(e.message).toMatch(/this server reads no policy files \(it was started without --policies DIR\)/);
    const gone = await failure(policyDirectory(join(dir, "nope")).read("team/p.yaml"));
    expect(gone.message).toMatch(/must name a regular policy file under the server's --policies directory/);
  });
});

describe("the user's own policy files (stdio, CLI)", () => {
  it("reads relative to the working directory, asynchronously and synchronously", async () => {
    const { dir } = layout();
    expect(await userPolicyFiles(dir).read("team/p.yaml")).toBe("service: a\n");
    expect(await userPolicyFiles(dir).read("escape.yaml")).toBe("service: outside\n");
    expect(readUserPolicyFileSync("team/p.yaml", dir)).toBe("service: a\n");
    expect(readUserPolicyFileSync("exact.yaml", dir).length).toBe(MAX_POLICY_BYTES);
  });

  it("refuses FIFOs, directories, missing and oversized files without waiting or reading them", async () => {
    const { dir } = layout();
    for (const path of ["fifo.yaml", "team", "missing.yaml"]) {
      const e = await failure(userPolicyFiles(dir).read(path));
      expect(e.message).toBe(
        `cannot read policy file ${JSON.stringify(path)}: no regular file there that this process may read; pass a policy file's path or an inline policy object`,
      );
      expect(() => readUserPolicyFileSync(path, dir)).toThrow(
        `cannot read policy file ${JSON.stringify(path)}: no regular file there that this process may read; pass a policy file's path`,
      );
    }
    const big = `cannot read policy file "big.yaml": a policy file is at most ${MAX_POLICY_BYTES} bytes`;
    expect((await failure(userPolicyFiles(dir).read("big.yaml"))).message).toBe(big);
    expect(() => readUserPolicyFileSync("big.yaml", dir)).toThrow(big);
  });
});

describe("withPolicyFile: the operation reads only the file its argument named", () => {
  it("serves the fetched text for that path and refuses any other", async () => {
    const { dir } = layout();
    const ctx = await withPolicyFile(await operationsContext(), userPolicyFiles(dir), "team/p.yaml");
    expect(ctx.readPolicyFile("team/p.yaml")).toBe("service: a\n");
    expect(() => ctx.readPolicyFile("other.yaml")).toThrow(RefusedError);
    try {
      ctx.readPolicyFile("other.yaml");
    } catch (e) {
      expect((e as RefusedError).rule).toBe("policy_files");
    }
  });

  it("a failed read is the read's own error; no path argument reads nothing", async () => {
    const { dir } = layout();
    const failed = await withPolicyFile(await operationsContext(), userPolicyFiles(dir), "missing.yaml");
    expect(() => failed.readPolicyFile("missing.yaml")).toThrow(/no regular file there/);
    const inline = await withPolicyFile(await operationsContext(), userPolicyFiles(dir), { service: "x" });
    expect(() => inline.readPolicyFile("team/p.yaml")).toThrow(
      "only the policy named by the `policy` argument may be read",
    );
  });
});
