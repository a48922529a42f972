import { readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { createAssigner } from "../../cohort-assigner.js";
import { replayDeployment } from "../../controller/replay.js";
import { reportToMarkdown } from "../../core/compare/markdown.js";
import { parsePolicyText } from "../../core/policy/parse.js";
import type { Slice } from "../../core/slice.js";
import { parseSliceLine } from "../../core/slice-line.js";
import { openLedger } from "../../ledger/open.js";
import { auditLog } from "../../operations/audit-log.js";
import { compareMetricsReport } from "../../operations/compare-metrics.js";
import { manualClock, type OperationContext } from "../../operations/context.js";
import { packageRoot } from "../../package-root.js";
import { type Command, flag, str } from "../command.js";
import { EXIT, paint, printJson, table } from "../output.js";

/** Shipped fixtures, found beside the package whether run from the source tree or an install. */
const FIXTURES = join(packageRoot() ?? ".", "fixtures/scenarios");

function loadScenario(name: string): { policy: Record<string, unknown>; slices: Slice[] } {
  const parsed = parsePolicyText(readFileSync(join(FIXTURES, `${name}.policy.yaml`), "utf8"));
  if (!parsed.ok) throw new Error(`fixture policy ${name} is invalid: ${parsed.errors[0]?.message}`);
  const slices = readFileSync(join(FIXTURES, `${name}.ndjson`), "utf8")
    .split("\n")
    .flatMap((line, i) => parseSliceLine(line, i + 1) ?? []);
  return { policy: parsed.policy as unknown as Record<string, unknown>, slices };
}

export const demoCommand: Command = {
  name: "demo",
  usage: `canary demo [--ledger PATH] [--json]

Replays two shipped scenarios (fixtures/scenarios) through the real decision loop on an embedded
SQLite ledger (default .canary/demo.db, recreated each run) with a virtual clock: a healthy
release walks 1 > 5 > 25 > 50 > 100%, a release with an error spike is rolled back. Then it prints
the bad release's report and the verified audit trail.`,
  options: { ledger: { type: "string" }, json: { type: "boolean" } },
  async run(args) {
    const path = resolve(str(args, "ledger") ?? ".canary/demo.db");
    for (const suffix of ["", "-wal", "-shm"]) rmSync(`${path}${suffix}`, { force: true });
    const ledger = openLedger(path, { clockMode: "manual" });
    const ctx: OperationContext = {
      ledger,
      clock: manualClock,
      actor: "demo",
      assigner: await createAssigner(),
      readPolicyFile: () => "",
    };
    const json = flag(args, "json");
    const say = (text: string) => {
      if (!json) process.stdout.write(`${text}\n`);
    };
    try {
      const runs = [];
      for (const [name, id, author] of [
        ["healthy", "checkout-v42", "ana@example.com"],
        ["error-spike", "checkout-v43", "bo@example.com"],
      ] as const) {
        const { policy, slices } = loadScenario(name);
        say(paint("bold", `\n== ${id}: ${name} release (${slices.length} slices, author ${author})`));
        const result = await replayDeployment(ctx, { deploymentId: id, policy, slices, author });
        // Show the looks where something changed, not every repeat of the same hold.
        let previous = "";
        const rows = result.timeline.flatMap((t) => {
          const reasons = [...new Set(t.reason_codes)].join(",");
          const key = `${t.step}|${t.verdict}|${reasons}`;
          const changed = key !== previous || (t.action !== "decided" && t.action !== "none");
          previous = key;
          const action =
            t.action === "decided" || t.action === "none"
              ? `stays at ${t.percent}%`
              : `${t.action} -> ${t.percent}%`;
          return changed ? [[t.at.slice(11, 16), t.verdict, reasons, action]] : [];
        });
        say(table(["at", "verdict", "reasons", "traffic"], rows));
        const color =
          result.final_state === "completed"
            ? "green"
            : result.final_state === "rolled_back"
              ? "red"
              : "yellow";
        say(
          `${paint(color, result.final_state)} at ${result.final_percent}% after ${result.looks} looks${rows.length < result.looks ? ` (the ${rows.length} where something changed are listed)` : ""}`,
        );
        runs.push(result);
      }
      const bad = runs[1]!;
      const report = compareMetricsReport(ctx, { deployment_id: bad.deployment_id });
      say(paint("bold", `\n== report of ${bad.deployment_id} at its rollback`));
      say(reportToMarkdown(report));
      const audit = auditLog(ctx, { verify: true, limit: 1000 });
      say(paint("bold", "\n== audit trail (state changes; every entry is hash-chained)"));
      say(
        table(
          ["seq", "at", "deployment", "actor", "action"],
          audit.entries
            .filter((e) => e.action !== "record_metrics" && e.action !== "decide")
            .map((e) => [e.seq, e.at, e.deployment_id, e.actor, e.action]),
        ),
      );
      say(
        `${audit.chain_ok ? paint("green", "chain ok") : paint("red", "CHAIN BROKEN")}: ${audit.verified_entries} entries, head ${audit.head}`,
      );
      say(`\nledger: ${path} (inspect with: canary status --all --clock manual --ledger ${path})`);
      if (json)
        printJson({
          runs,
          report,
          audit: { chain_ok: audit.chain_ok, entries: audit.verified_entries, head: audit.head },
        });
      const ok =
        runs[0]?.final_state === "completed" && bad.final_state === "rolled_back" && audit.chain_ok === true;
      return ok ? EXIT.ok : EXIT.internal;
    } finally {
      ledger.close();
    }
  },
};
