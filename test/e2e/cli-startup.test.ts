import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { statusOperation } from "../../mcp-server/cli/commands/status.js";
import { deploymentStatusTool } from "../../mcp-server/mcp/tools/deployment-status.js";
import { CLI, REPO, runCli, tempDir } from "../support/cli.js";

// `canary status ID` is the CLI step CI runs most, and its start-up is mostly module loading
// (test/bench/startup.bench.ts times it). Which modules it loads is a fact a test can pin: the
// bundled CLI, run as a user runs it, must not load the heavy parts it has no use for.

const BUNDLE = join(REPO, "dist/cli");

/** The bundle marks each module it inlines with a comment naming its source path. */
const HEAVY = {
  zod: /^\/\/ .*node_modules[\\/]zod[\\/]/m,
  "the cohort assigner's WebAssembly (xxhash-wasm)": /^\/\/ .*node_modules[\\/]xxhash-wasm[\\/]/m,
  "the MCP SDK": /^\/\/ .*node_modules[\\/]@modelcontextprotocol[\\/]sdk[\\/]/m,
};

/** The bundle's files that the command loaded, by the module-load hook in test/support/module-log.mjs. */
function bundleFilesLoadedBy(args: string[]): string[] {
  const log = join(tempDir(), "modules.log");
  const r = spawnSync(
    process.execPath,
    ["--import", join(REPO, "test/support/module-log.mjs"), CLI, ...args],
    { cwd: REPO, encoding: "utf8", env: { ...process.env, CANARY_TEST_MODULE_LOG: log } },
  );
  expect(r.status, r.stderr).not.toBe(1);
  return readFileSync(log, "utf8")
    .split("\n")
    .filter((url) => url.startsWith("file:"))
    .map((url) => fileURLToPath(url))
    .filter((path) => path.startsWith(BUNDLE));
}

function heavyPartsIn(files: string[]): string[] {
  const text = files.map((f) => readFileSync(f, "utf8")).join("\n");
  return Object.entries(HEAVY)
    .filter(([, marker]) => marker.test(text))
    .map(([name]) => name);
}

describe("canary status start-up", () => {
  it("loads neither zod, the cohort assigner nor the MCP SDK for one deployment (its JSON, its text, an unknown id)", () => {
    // The markers do find each part in the bundle (else the check below would prove nothing).
    const everyFile = readdirSync(BUNDLE).map((f) => join(BUNDLE, f));
    expect(heavyPartsIn(everyFile)).toEqual(Object.keys(HEAVY));

    const dir = tempDir();
    const ledger = join(dir, "ledger.db");
    const policy = join(REPO, "test/support/policy.yaml");
    expect(runCli(["start", "d1", "--policy", policy, "--ledger", ledger]).code).toBe(0);
    for (const args of [
      ["status", "d1", "--json", "--ledger", ledger],
      ["status", "d1", "--ledger", ledger],
      ["status", "nope", "--json", "--ledger", ledger],
    ]) {
      const loaded = bundleFilesLoadedBy(args);
      expect(loaded.length, args.join(" ")).toBeGreaterThan(1);
      expect(heavyPartsIn(loaded), args.join(" ")).toEqual([]);
    }
    // The list still goes through its tool (and zod, which applies its defaults).
    expect(heavyPartsIn(bundleFilesLoadedBy(["status", "--json", "--ledger", ledger]))).toEqual(["zod"]);
  });

  it("runs the deployment_status tool's own operation, under its name (remote mode) and read-only", () => {
    expect(statusOperation.name).toBe(deploymentStatusTool.name);
    expect(statusOperation.run).toBe(deploymentStatusTool.run);
    expect(statusOperation.annotations.readOnlyHint).toBe(true);
    expect(deploymentStatusTool.annotations.readOnlyHint).toBe(true);
  });
});
