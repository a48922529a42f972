import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { createAssigner } from "../../cohort-assigner.js";
import { replayDeployment } from "../../controller/replay.js";
import { InvalidInputError, RefusedError } from "../../core/errors.js";
import type { Slice } from "../../core/slice.js";
import { boundedLines, parseSliceLine } from "../../core/slice-line.js";
import type { Ledger } from "../../ledger/index.js";
import { ledgerClockMode, openLedger } from "../../ledger/open.js";
import { manualClock, type OperationContext } from "../../operations/context.js";
import { loadPolicyArgument } from "../../operations/load-policy.js";
import { type Command, flag, str } from "../command.js";
import { actorFromEnv } from "../context.js";
import { openInput } from "../input-file.js";
import { EXIT, paint, printJson, table, UsageError } from "../output.js";

async function readSlices(file: string): Promise<Slice[]> {
  const slices: Slice[] = [];
  let n = 0;
  const lines = boundedLines(openInput(file, "--data"));
  for await (const raw of lines) {
    const slice = parseSliceLine(raw, ++n);
    if (slice) slices.push(slice);
  }
  return slices;
}

/** Replays run on virtual time, so a ledger they write into must be a manual-clock one. */
function openReplayLedger(path: string | undefined): Ledger {
  const ledger = openLedger(path ?? ":memory:", { clockMode: "manual" });
  if (ledgerClockMode(ledger) === "real") {
    ledger.close();
    throw new RefusedError(
      "clock",
      `the ledger ${path} was written with the real clock; replay runs on virtual time and only writes into a new ledger or one written by earlier replays or manual-clock runs: give another --ledger path, or none to replay in memory`,
    );
  }
  return ledger;
}

export const replayCommand: Command = {
  name: "replay",
  usage: `canary replay --policy P --data FILE.ndjson [--follow ladder|recorded] [--deployment ID] [--ledger PATH] [--json]

"Would this policy have caught last month's incident?" Feeds the recorded slices as virtual time
passes, decides at every due look, and prints the decision timeline and the mode it used:
  --follow ladder    (default) the policy's ladder moves on its verdicts: promotes and rolls back
                     as the policy says. The recorded traffic is judged against the replayed
                     percent, so a recording made at other percents shows a broken split.
  --follow recorded  traffic follows the percents the recording was made at (the canary's share
                     of each slice time's traffic, cut into levels; a level within 30% of a rung
                     is that rung): use it to judge a recording. Verdicts roll back, never promote.
Writes nothing unless --ledger is given (then into that ledger, which must use the manual
clock: replay always runs on virtual time and takes no --clock). Exit 0 completed, 10 still running when the data ended, 20 rolled back.`,
  options: {
    policy: { type: "string" },
    data: { type: "string" },
    deployment: { type: "string" },
    follow: { type: "string" },
    ledger: { type: "string" },
    json: { type: "boolean" },
  },
  async run(args) {
    const policyFile = str(args, "policy");
    const dataFile = str(args, "data");
    if (!policyFile || !dataFile) throw new UsageError("--policy FILE and --data FILE.ndjson are required");
    const { policy } = loadPolicyArgument(
      { readPolicyFile: (p) => readFileSync(resolve(p), "utf8") },
      policyFile,
    );
    const follow = str(args, "follow") ?? "ladder";
    if (follow !== "ladder" && follow !== "recorded")
      throw new UsageError(`--follow takes ladder or recorded, got ${JSON.stringify(follow)}`);
    const slices = await readSlices(dataFile);
    if (slices.length === 0) throw new InvalidInputError("--data", "the file holds no slices");
    const ids = new Set(slices.map((s) => s.deployment_id).filter((x): x is string => x !== undefined));
    const deploymentId = str(args, "deployment") ?? (ids.size === 1 ? [...ids][0]! : "replay");
    const ledger = openReplayLedger(str(args, "ledger"));
    const ctx: OperationContext = {
      ledger,
      clock: manualClock,
      actor: actorFromEnv(),
      assigner: await createAssigner(),
      readPolicyFile: () => "",
    };
    try {
      const result = await replayDeployment(ctx, {
        deploymentId,
        policy,
        slices: slices.map((s) => ({ ...s, deployment_id: deploymentId })),
        mode: follow,
      });
      if (flag(args, "json")) printJson(result);
      else {
        process.stdout.write(
          `${table(
            ["at", "step", "percent", "verdict", "action", "reasons"],
            result.timeline.map((t) => [
              t.at,
              t.step,
              `${t.percent}%`,
              t.verdict,
              t.action,
              t.reason_codes.join(","),
            ]),
          )}\n`,
        );
        const color =
          result.final_state === "completed"
            ? "green"
            : result.final_state === "rolled_back"
              ? "red"
              : "yellow";
        process.stdout.write(
          `${paint(color, result.final_state)} at ${result.final_percent}% after ${result.looks} looks (mode ${result.mode}): ${result.note}\n`,
        );
      }
      return result.final_state === "completed"
        ? EXIT.ok
        : result.final_state === "rolled_back"
          ? EXIT.rollback
          : EXIT.hold;
    } finally {
      ledger.close();
    }
  },
};
