import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, runCliAsync, tempDir } from "../support/cli.js";
import { drive } from "../support/drive.js";
import { connectCanary } from "../support/mcp-client.js";

const T0 = Date.parse("2026-05-26T10:00:00Z");

function policy(service: string): Record<string, unknown> {
  return {
    service,
    check_every: "15m",
    ladder: [{ percent: 5, window: "30m" }, { percent: 50, window: "30m" }, { percent: 100 }],
    metrics: [
      {
        name: "error_rate",
        type: "ratio",
        events: "http_errors",
        trials: "http_requests",
        bad: "increase",
        tolerance: { relative: 0 },
        margin: { relative: 0.5 },
      },
    ],
  };
}

/** A ledger whose deployment holds a fresh promote verdict on step 0 and has not moved yet. */
async function ledgerReadyToPromote(id: string): Promise<string> {
  const ledger = join(tempDir(), "ledger.db");
  const client = await connectCanary({ ledger, clock: "manual" });
  const run = await drive(client, {
    id,
    policy: policy(`svc-${id}`),
    start: T0,
    rps: 1000,
    seed: 7,
    behaviour: () => ({ errorRate: 0.01 }),
    maxMs: 3600_000,
    act: false,
  });
  await client.close();
  expect(run.looks.at(-1)?.verdict).toBe("promote");
  expect(run.step).toBe(0);
  return ledger;
}

describe("eight processes racing promote_step on one ledger file", () => {
  it("move it exactly one step when every racer passes --expected-step (the others are safe repeats)", async () => {
    const ledger = await ledgerReadyToPromote("race-a");
    const racers = await Promise.all(
      Array.from({ length: 8 }, () =>
        runCliAsync([
          "promote",
          "race-a",
          "--expected-step",
          "0",
          "--clock",
          "manual",
          "--json",
          "--ledger",
          ledger,
        ]),
      ),
    );
    for (const r of racers) expect(r.code, r.stderr).toBe(0);
    const outs = racers.map((r) => JSON.parse(r.stdout) as { moved: boolean; step: number });
    expect(outs.filter((o) => o.moved)).toHaveLength(1);
    expect(outs.every((o) => o.step === 1)).toBe(true);
    const status = JSON.parse(
      runCli(["status", "race-a", "--json", "--clock", "manual", "--ledger", ledger]).stdout,
    ) as { step: number; transitions: { kind: string }[] };
    expect(status.step).toBe(1);
    expect(status.transitions.filter((t) => t.kind === "promote")).toHaveLength(1);
    expect(runCli(["audit", "--verify", "--ledger", ledger]).code).toBe(0);
  });

  it("move it exactly one step without --expected-step: one wins, seven are refused (exit 3)", async () => {
    const ledger = await ledgerReadyToPromote("race-b");
    const racers = await Promise.all(
      Array.from({ length: 8 }, () =>
        runCliAsync(["promote", "race-b", "--clock", "manual", "--ledger", ledger]),
      ),
    );
    expect(racers.filter((r) => r.code === 0)).toHaveLength(1);
    const refused = racers.filter((r) => r.code === 3);
    expect(refused).toHaveLength(7);
    expect(refused[0]?.stderr).toMatch(/fresh_promote_required/);
    const audit = runCli(["audit", "race-b", "--verify", "--json", "--ledger", ledger]);
    expect(audit.code).toBe(0);
    const entries = (JSON.parse(audit.stdout) as { entries: { action: string }[] }).entries;
    expect(entries.filter((e) => e.action === "promote")).toHaveLength(1);
  });
});
