import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { COMMANDS } from "../../mcp-server/cli/commands/index.js";
import { replayResultSchema } from "../../mcp-server/controller/replay.js";
import { reportSchema } from "../../mcp-server/core/report.js";
import { decideOutput } from "../../mcp-server/operations/decide.js";
import { deploymentStatusOutput } from "../../mcp-server/operations/deployment-status.js";
import { tickActionSchema } from "../../mcp-server/operations/tick.js";
import { REPO, runCli, runCliAsync, tempDir } from "../support/cli.js";
import { basicPolicy } from "../support/policies.js";
import { trafficSlices } from "../support/service-traffic.js";

const T0 = Date.parse("2026-05-26T10:00:00Z");
const MIN = 60_000;

function policyFile(dir: string, overrides: Record<string, unknown> = {}): string {
  const file = join(dir, "policy.json");
  writeFileSync(
    file,
    JSON.stringify(
      basicPolicy({
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
        ...overrides,
      }),
    ),
  );
  return file;
}

function ndjson(
  dir: string,
  name: string,
  opts: {
    from: number;
    to: number;
    percent: number;
    canaryErrors: number;
    deploymentId?: string;
    seed?: number;
  },
): string {
  const file = join(dir, name);
  const slices = trafficSlices({
    from: opts.from,
    to: opts.to,
    rps: 1000,
    percentAt: () => opts.percent,
    behaviour: (_t, cohort) => ({ errorRate: cohort === "canary" ? opts.canaryErrors : 0.01 }),
    seed: opts.seed ?? 1,
    deploymentId: opts.deploymentId,
  });
  writeFileSync(file, `${slices.map((s) => JSON.stringify(s)).join("\n")}\n`);
  return file;
}

const at = (ms: number) => new Date(ms).toISOString();

describe("the canary CLI as CI runs it (built binary, subprocesses)", () => {
  it("gives every command --help, exit 0", async () => {
    for (const c of COMMANDS) {
      const r = runCli([...c.name.split(" "), "--help"]);
      expect((await c.load()).name, "the entry loads the command it names").toBe(c.name);
      expect(r.code, c.name).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`canary ${c.name}`));
    }
    expect(runCli(["--help"]).stdout).toMatch(/Exit codes/);
  });

  it("answers bad usage with exit 2 and a message naming the problem", () => {
    const unknown = runCli(["frobnicate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "frobnicate"/);
    const flag = runCli(["status", "--bogus"]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/bogus/);
    const missing = runCli(["start", "d1"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--policy/);
    const json = runCli(["rollback", "d1", "--json"]);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { kind: "usage" } });
  });

  it("validates policies: exit 0 valid, 2 invalid with path and line", () => {
    const dir = tempDir();
    expect(runCli(["policy", "validate", "policies/payment.yaml"]).code).toBe(0);
    const bad = join(dir, "bad.yaml");
    writeFileSync(
      bad,
      "service: x\nladder:\n  - { percent: 1, window: 30m }\n  - { percent: 100 }\nmetrics: []\nspeed: fast\n",
    );
    const r = runCli(["policy", "validate", bad, "--json"]);
    expect(r.code).toBe(2);
    const out = JSON.parse(r.stdout) as { valid: boolean; errors: { path: string; line?: number }[] };
    expect(out.valid).toBe(false);
    expect(out.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: "metrics" }),
        expect.objectContaining({ path: "speed", line: 6 }),
      ]),
    );
  });

  it("power-checks a policy: exit 10 when a rung would hold for lack of data, 0 when all can prove in time", () => {
    const low = runCli(["preflight", "--policy", "policies/search.yaml", "--rpm", "600", "--json"]);
    expect(low.code).toBe(10);
    const out = JSON.parse(low.stdout) as {
      ok: boolean;
      rungs: { suggestion: string | null }[];
      not_checked: string[];
    };
    expect(out.ok).toBe(false);
    expect(out.rungs[0]?.suggestion).toMatch(/%|window/);
    expect(out.not_checked).toEqual(["result_count"]);
    const dir = tempDir();
    const high = runCli([
      "preflight",
      "--policy",
      policyFile(dir),
      "--rpm",
      "500000",
      "--baseline",
      "error_rate=0.01",
    ]);
    expect(high.code, high.stdout).toBe(0);
    const bad = runCli(["preflight", "--policy", policyFile(dir), "--rpm", "1000", "--baseline", "nope=0.1"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/traffic.baselines.nope/);
  });

  it("drives start, ingest, compare, decide, promote, status, rollback and audit with documented exit codes and JSON", () => {
    const dir = tempDir();
    const ledger = join(dir, "ledger.db");
    const base = ["--ledger", ledger, "--clock", "manual"];
    const policy = policyFile(dir);
    const started = runCli([
      "start",
      "d1",
      "--policy",
      policy,
      "--author",
      "ana@example.com",
      "--at",
      at(T0),
      "--json",
      ...base,
    ]);
    expect(started.code, started.stderr).toBe(0);
    // A retried start (same id, policy and version) is a safe repeat; another policy under the id is refused.
    const restart = runCli(["start", "d1", "--policy", policy, "--at", at(T0), "--json", ...base]);
    expect(restart.code, restart.stderr).toBe(0);
    expect(JSON.parse(restart.stdout)).toMatchObject({ deployment_id: "d1", moved: false, step: 0 });
    const other = runCli([
      "start",
      "d1",
      "--policy",
      policyFile(tempDir(), { alpha: 0.01 }),
      "--at",
      at(T0),
      ...base,
    ]);
    expect(other.code).toBe(3);
    expect(other.stderr).toMatch(/deployment_exists.*another policy/);
    const bad = runCli([
      "start",
      "d2",
      "--policy",
      policyFile(tempDir(), { alpha: 7 }),
      "--at",
      at(T0),
      ...base,
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/alpha/);

    // Ingest: a bad line refuses the whole file, naming the line and field; nothing is kept.
    const good = ndjson(dir, "good.ndjson", {
      from: T0,
      to: T0 + 45 * MIN,
      percent: 5,
      canaryErrors: 0.01,
      deploymentId: "d1",
    });
    const broken = join(dir, "broken.ndjson");
    writeFileSync(
      broken,
      `${'{"deployment_id":"d1","t":"2026-05-26T10:00:00Z","cohort":"canary","counters":{"http_requests":5}}'}\n{"deployment_id":"d1","t":"2026-05-26T10:01:00Z","cohort":"canary","counters":{"http_requests":-1}}\n`,
    );
    const refused = runCli(["ingest", broken, ...base]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/line 2: counters.http_requests/);
    const db = new Database(ledger, { readonly: true });
    expect(db.prepare("SELECT COUNT(*) FROM metric_series").pluck().get()).toBe(0);
    db.close();
    const ingested = runCli(["ingest", good, "--json", ...base]);
    expect(ingested.code, ingested.stderr).toBe(0);
    expect(JSON.parse(ingested.stdout)).toMatchObject({ slices: 90, deployments: { d1: 90 } });
    // From stdin too, and a re-sent file is a safe retry.
    const again = runCli(["ingest", "-", "--deployment", "d1", ...base], {
      input: `${'{"t":"2026-05-26T10:00:00Z","cohort":"canary","counters":{"http_requests":700}}'}\n`,
    });
    expect(again.code, again.stderr).toBe(0);
    expect(runCli(["ingest", good, "--deployment", "d1", ...base]).code).toBe(0);

    const compare = runCli(["compare", "d1", "--json", "--at", at(T0 + 45 * MIN), ...base]);
    expect(compare.code).toBe(0);
    const report = reportSchema.parse(JSON.parse(compare.stdout));
    expect(report.rows[0]?.metric).toBe("error_rate");
    expect(runCli(["compare", "d1", "--at", at(T0 + 45 * MIN), ...base]).stdout).toMatch(/error_rate/);

    expect(runCli(["promote", "d1", "--at", at(T0 + 45 * MIN), ...base]).code).toBe(3);
    const hold = runCli(["decide", "d1", "--json", "--at", at(T0 + 15 * MIN), ...base]);
    expect(hold.code).toBe(10);
    expect(decideOutput.parse(JSON.parse(hold.stdout)).reason_codes).toContain("window_open");
    const promote = runCli(["decide", "d1", "--json", "--at", at(T0 + 45 * MIN), ...base]);
    expect(promote.code, promote.stdout).toBe(0);
    expect(JSON.parse(promote.stdout)).toMatchObject({ verdict: "promote" });
    const moved = runCli(["promote", "d1", "--expected-step", "0", "--json", ...base]);
    expect(moved.code, moved.stderr).toBe(0);
    expect(JSON.parse(moved.stdout)).toMatchObject({ step: 1, percent: 50, moved: true });
    expect(runCli(["promote", "d1", "--expected-step", "0", ...base]).code).toBe(0);
    expect(runCli(["promote", "d1", "--expected-step", "5", ...base]).code).toBe(3);
    const nonApprover = runCli(["promote", "d1", "--override", "trust me", ...base], {
      env: { CANARY_ACTOR: "intern@example.com" },
    });
    expect(nonApprover.code).toBe(3);
    expect(nonApprover.stderr).toMatch(/approver_required/);

    const running = runCli(["status", "d1", "--json", ...base]);
    expect(running.code).toBe(10);
    expect(deploymentStatusOutput.parse(JSON.parse(running.stdout))).toMatchObject({
      state: "canary",
      step: 1,
      percent: 50,
    });
    expect(runCli(["status", ...base]).stdout).toMatch(/d1/);

    expect(runCli(["rollback", "d1", "--reason", "pager", ...base]).code).toBe(0);
    expect(runCli(["rollback", "d1", "--reason", "pager", ...base]).code).toBe(0);
    expect(runCli(["status", "d1", ...base]).code).toBe(20);
    expect(runCli(["decide", "d1", ...base]).code).toBe(3);
    expect(runCli(["status", "nope", ...base]).code).toBe(2);
    const audit = runCli(["audit", "d1", "--verify", "--json", ...base]);
    expect(audit.code).toBe(0);
    const actions = (JSON.parse(audit.stdout) as { entries: { action: string }[] }).entries.map(
      (e) => e.action,
    );
    expect(actions).toEqual(expect.arrayContaining(["start", "ingest", "decide", "promote", "rollback"]));
    expect(runCli(["decide", "d1", "--at", at(T0)], { cwd: dir }).code).toBe(2);
  });

  it("decide exits 20 on a rollback verdict, and tick rolls back (exit 20) when the policy says so", () => {
    const dir = tempDir();
    const ledger = join(dir, "ledger.db");
    const base = ["--ledger", ledger, "--clock", "manual"];
    expect(runCli(["start", "bad", "--policy", policyFile(dir), "--at", at(T0), ...base]).code).toBe(0);
    expect(
      runCli([
        "ingest",
        ndjson(dir, "bad.ndjson", {
          from: T0,
          to: T0 + 15 * MIN,
          percent: 5,
          canaryErrors: 0.08,
          deploymentId: "bad",
        }),
        ...base,
      ]).code,
    ).toBe(0);
    expect(runCli(["decide", "bad", "--at", at(T0 + 15 * MIN), ...base]).code).toBe(20);
    const tick = runCli(["tick", "--json", "--at", at(T0 + 15 * MIN), ...base]);
    expect(tick.code, tick.stderr).toBe(20);
    const actions = (JSON.parse(tick.stdout) as { actions: unknown[] }).actions.map((a) =>
      tickActionSchema.parse(a),
    );
    expect(actions).toEqual([
      expect.objectContaining({ deployment_id: "bad", action: "rolled_back", state: "rolled_back" }),
    ]);
    expect(runCli(["tick", "--json", ...base]).code).toBe(0);
    expect(runCli(["tick", "--at", "yesterday", ...base]).code).toBe(2);
    expect(runCli(["tick", "--at", at(T0), "--ledger", join(dir, "real.db")]).stderr).toMatch(/manual clock/);
  });

  it("two tick processes at once leave the same state as one", async () => {
    const dir = tempDir();
    const one = join(dir, "one.db");
    const base = (l: string) => ["--ledger", l, "--clock", "manual"];
    for (const id of ["t1", "t2"]) {
      const p = policyFile(tempDir(), { service: `svc-${id}` });
      expect(runCli(["start", id, "--policy", p, "--at", at(T0), ...base(one)]).code).toBe(0);
      expect(
        runCli([
          "ingest",
          ndjson(dir, `${id}.ndjson`, {
            from: T0,
            to: T0 + 45 * MIN,
            percent: 5,
            canaryErrors: id === "t1" ? 0.01 : 0.08,
            deploymentId: id,
            seed: 3,
          }),
          ...base(one),
        ]).code,
      ).toBe(0);
    }
    const two = join(dir, "two.db");
    for (const suffix of ["", "-wal", "-shm"]) {
      try {
        copyFileSync(one + suffix, two + suffix);
      } catch {
        // no WAL file: fine
      }
    }
    const tickAt = ["tick", "--json", "--flush-seconds", "0", "--at", at(T0 + 45 * MIN)];
    const single = runCli([...tickAt, ...base(one)]);
    const [a, b] = await Promise.all([
      runCliAsync([...tickAt, ...base(two)]),
      runCliAsync([...tickAt, ...base(two)]),
    ]);
    // One tick rolls t2 back (exit 20); of two racing ticks exactly one does, the other finds nothing due.
    expect(single.code).toBe(20);
    expect([a.code, b.code].sort()).toEqual([0, 20]);
    const dump = (path: string) => {
      const db = new Database(path, { readonly: true });
      const out = {
        deployments: db
          .prepare("SELECT id, state, step, percent, step_started_at, ended_at FROM deployments ORDER BY id")
          .all(),
        transitions: db
          .prepare("SELECT deployment_id, kind, from_step, to_step, at FROM step_transitions ORDER BY id")
          .all(),
        decisions: db
          .prepare(
            "SELECT deployment_id, step, verdict, inputs_sha256, decided_at FROM decisions ORDER BY id",
          )
          .all(),
        audit: db.prepare("SELECT action, deployment_id, entry_hash FROM audit_log ORDER BY seq").all(),
      };
      db.close();
      return out;
    };
    const s1 = dump(one);
    expect(s1.deployments).toEqual([
      expect.objectContaining({ id: "t1", state: "canary", step: 1 }),
      expect.objectContaining({ id: "t2", state: "rolled_back" }),
    ]);
    expect(dump(two)).toEqual(s1);
  });

  it("npm run demo promotes a healthy release, rolls back a bad one, and shows the report and a verified audit trail", () => {
    const ledger = join(tempDir(), "demo.db");
    const r = spawnSync("npm", ["run", "--silent", "demo", "--", "--ledger", ledger], {
      cwd: REPO,
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1" },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/checkout-v42: healthy release/);
    expect(r.stdout).toMatch(/completed -> 100%/);
    expect(r.stdout).toMatch(/checkout-v43: error-spike release/);
    expect(r.stdout).toMatch(/rolled_back -> 0%/);
    expect(r.stdout).toMatch(/\| regression \| error_rate \| rate \| endpoint=\/checkout/);
    expect(r.stdout).toMatch(/chain ok: \d+ entries/);
  });

  it("replays a recorded incident with a virtual clock and writes nothing without --ledger", () => {
    const dir = tempDir();
    const data = ndjson(dir, "incident.ndjson", {
      from: T0,
      to: T0 + 60 * MIN,
      percent: 5,
      canaryErrors: 0.05,
      deploymentId: "inc-1",
    });
    const policy = policyFile(dir);
    const r = runCli(["replay", "--policy", policy, "--data", data, "--json"], { cwd: dir });
    expect(r.code, r.stderr).toBe(20);
    const result = replayResultSchema.parse(JSON.parse(r.stdout));
    expect(result.final_state).toBe("rolled_back");
    expect(result.timeline.at(-1)).toMatchObject({ action: "rolled_back", verdict: "rollback" });
    const healthy = ndjson(dir, "ok.ndjson", {
      from: T0,
      to: T0 + 120 * MIN,
      percent: 5,
      canaryErrors: 0.01,
      deploymentId: "ok-1",
    });
    const ok = runCli(["replay", "--policy", policy, "--data", healthy], { cwd: dir });
    expect([0, 10]).toContain(ok.code);
    expect(ok.stdout).toMatch(/promote/);
    // Nothing was written: there is no ledger, and a read-only command does not create one.
    const status = runCli(["status"], { cwd: dir });
    expect(status.code).toBe(2);
    expect(status.stderr).toMatch(/no ledger at/);
    expect(existsSync(join(dir, ".canary/ledger.db"))).toBe(false);
  });
});
