import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { CLI, REPO, tempDir } from "../support/cli.js";
import { connectCanary } from "../support/mcp-client.js";
import { externalCli, fences, INSPECTOR_VERSION, loadSkills } from "./pack.js";

// A generic MCP client that is not ours: the MCP Inspector CLI lists the tools with its schema
// portability lint (--strict exits 6 on an error-severity problem) and calls one with a skill's
// example policy.

const inspector = externalCli(
  "mcp-inspector",
  `npm install -g @modelcontextprotocol/inspector@${INSPECTOR_VERSION}`,
);

const toolsListSchema = z.object({
  tools: z.array(
    z.looseObject({ name: z.string(), inputSchema: z.looseObject({ type: z.literal("object") }) }),
  ),
});
const callResultSchema = z.looseObject({ structuredContent: z.record(z.string(), z.unknown()).optional() });

describe.skipIf(inspector.skip)("MCP Inspector CLI against canary mcp", () => {
  const dir = tempDir("canary-inspector-");
  let client: Client;
  let serverTools: string[] = [];

  /** `mcp-inspector --cli node <canary> mcp --ledger <tmp> ...` with its catalog kept out of HOME. */
  function inspect(args: string[]): { code: number; stdout: string; stderr: string } {
    const r = spawnSync(
      inspector.path ?? "mcp-inspector",
      ["--cli", process.execPath, CLI, "mcp", "--ledger", join(dir, "ledger.db"), ...args],
      {
        cwd: REPO,
        env: { ...process.env, HOME: dir, MCP_CATALOG_PATH: join(dir, "catalog.json"), NO_COLOR: "1" },
        encoding: "utf8",
        timeout: 120_000,
      },
    );
    if (r.error) throw r.error;
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  }

  beforeAll(async () => {
    client = await connectCanary({ ledger: join(dir, "sdk.db") });
    serverTools = (await client.listTools()).tools.map((t) => t.name);
  });
  afterAll(async () => {
    await client?.close();
  });

  it("is installed", () => {
    expect(inspector.path, "install it: see .ci/run").toBeDefined();
  });

  it("lists every tool with --strict and finds no portability error (exit 0, not 6)", () => {
    const r = inspect(["--method", "tools/list", "--strict"]);
    expect(r.code, r.stderr).toBe(0);
    const listed = toolsListSchema.parse(JSON.parse(r.stdout));
    expect(listed.tools.map((t) => t.name)).toEqual(serverTools);
    expect(r.stderr).toMatch(/\b0 errors\b/);
  });

  it("calls validate_policy with the first example policy of the canary-policy skill", () => {
    const skill = loadSkills().find((s) => s.dir === "canary-policy");
    const example = fences(skill?.body ?? "", "canary-policy").find(
      (f) => f.lang === "yaml" && /^service:/m.test(f.text),
    );
    expect(example).toBeDefined();
    const file = join(dir, "example.yaml");
    writeFileSync(file, example?.text ?? "");
    const r = inspect([
      "--method",
      "tools/call",
      "--tool-name",
      "validate_policy",
      "--tool-args-json",
      JSON.stringify({ policy: file }),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const result = callResultSchema.parse(JSON.parse(r.stdout));
    expect(result.structuredContent).toMatchObject({ valid: true, errors: [] });
  });
});
