import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ingestSummaryText } from "../../mcp-server/cli/commands/ingest.js";
import { CLI, REPO, runCli, tempDir } from "../support/cli.js";

// A new user's first mistakes get a sentence and exit 2, never a Node stack trace.
const STACK = /\n\s+at |node:internal|ENOENT: no such file or directory, open/;
const POLICY = join(REPO, "policies/search.yaml");

describe("the CLI on a new user's mistakes", () => {
  it("ingest of a missing file is bad input naming the file", () => {
    const dir = tempDir();
    const r = runCli(["ingest", "nonexist.ndjson", "--ledger", join(dir, "l.db")], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^canary: FILE: no such file "nonexist.ndjson"/);
    expect(r.stderr).not.toMatch(STACK);
  });

  it("replay of a missing data file or policy exits 2", () => {
    const dir = tempDir();
    const data = runCli(["replay", "--policy", POLICY, "--data", "nonexist"], { cwd: dir });
    expect(data.code).toBe(2);
    expect(data.stderr).toMatch(/--data: no such file "nonexist"/);
    const policy = runCli(["replay", "--policy", "nope.yaml", "--data", "nonexist"], { cwd: dir });
    expect(policy.code).toBe(2);
    expect(policy.stderr).toMatch(/cannot read policy file "nope.yaml"/);
    expect(data.stderr + policy.stderr).not.toMatch(STACK);
  });

  it("replay into a real-clock ledger says what to do, without suggesting --clock", () => {
    const dir = tempDir();
    const ledger = join(dir, "real.db");
    const started = runCli(["start", "d1", "--policy", POLICY, "--ledger", ledger]);
    expect(started.code, started.stderr).toBe(0);
    const data = join(dir, "data.ndjson");
    writeFileSync(
      data,
      `${JSON.stringify({ t: "2026-05-26T10:00:00Z", cohort: "canary", counters: { search_requests: 10 } })}\n`,
    );
    const r = runCli(["replay", "--policy", POLICY, "--data", data, "--ledger", ledger]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/written with the real clock; replay runs on virtual time/);
    expect(r.stderr).not.toMatch(/--clock manual/);
  });

  it("an option a command lacks is named, with the command's options and a suggestion", () => {
    const at = runCli(["ingest", "--at", "2026-05-26T10:00:00Z"]);
    expect(at.code).toBe(2);
    expect(at.stderr).toMatch(
      /canary ingest has no option --at \(its options: --ledger, --server, --clock, --json, --deployment;/,
    );
    const typo = runCli(["ingest", "--ledgr", "x"]);
    expect(typo.stderr).toMatch(/did you mean --ledger\?/);
    expect(at.stderr + typo.stderr).not.toMatch(/To specify a positional argument/);
  });

  it("a reader that closes the pipe early (| head) ends the command quietly", async () => {
    const child = spawn(process.execPath, [CLI, "preflight", "--policy", POLICY, "--rpm", "1000"], {
      cwd: REPO,
      env: { ...process.env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const code = await new Promise<number | null>((done) => child.on("close", done));
    expect(stderr).not.toMatch(/EPIPE|internal error/);
    expect(code).not.toBe(1);
  });
});

describe("ingest's summary", () => {
  it("lists deployments one per line, at most 20, and says how many more", () => {
    const deployments = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`d${i}`, 3]));
    const text = ingestSummaryText({ lines: 3000, slices: 3000, series_written: 6000, deployments });
    const lines = text.trimEnd().split("\n");
    expect(lines[0]).toBe("ingested 3000 slices (6000 series) from 3000 lines into 1000 deployments");
    expect(lines).toHaveLength(22);
    expect(lines[21]).toBe("  ... and 980 more (--json lists them all)");
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThan(100);
  });
});
