import { createReadStream, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { createAssigner } from "../../cohort-assigner.js";
import { InvalidInputError } from "../../core/errors.js";
import { parsePolicyText } from "../../core/policy/parse.js";
import type { Slice } from "../../core/slice.js";
import { boundedLines, parseSliceLine } from "../../core/slice-line.js";
import { openLedger } from "../../ledger/open.js";
import { manualClock, type OperationContext } from "../../operations/context.js";
import { replayDeployment } from "../../operations/replay.js";
import { type Command, flag, str } from "../command.js";
import { actorFromEnv } from "../context.js";
import { EXIT, paint, printJson, table, UsageError } from "../output.js";

async function readSlices(file: string): Promise<Slice[]> {
  const slices: Slice[] = [];
  let n = 0;
  const lines = boundedLines(file === "-" ? process.stdin : createReadStream(file, { encoding: "utf8" }));
  for await (const raw of lines) {
    const slice = parseSliceLine(raw, ++n);
    if (slice) slices.push(slice);
  }
  return slices;
}

export const replayCommand: Command = {
  name: "replay",
  usage: `canary replay --policy P --data FILE.ndjson [--deployment ID] [--ledger PATH] [--json]

"Would this policy have caught last month's incident?" Feeds the recorded slices as virtual time
passes, decides at every due look, promotes and rolls back as the policy says, and prints the
decision timeline. Writes nothing unless --ledger is given (then into that ledger, which must
use the manual clock). Exit 0 completed, 10 still running when the data ended, 20 rolled back.`,
  options: {
    policy: { type: "string" },
    data: { type: "string" },
    deployment: { type: "string" },
    ledger: { type: "string" },
    json: { type: "boolean" },
  },
  async run(args) {
    const policyFile = str(args, "policy");
    const dataFile = str(args, "data");
    if (!policyFile || !dataFile) throw new UsageError("--policy FILE and --data FILE.ndjson are required");
    const parsed = parsePolicyText(readFileSync(resolve(policyFile), "utf8"));
    if (!parsed.ok) {
      const e = parsed.errors[0];
      throw new InvalidInputError(`policy.${e?.path}`, `${e?.line ? `line ${e.line}: ` : ""}${e?.message}`);
    }
    const slices = await readSlices(dataFile);
    if (slices.length === 0) throw new InvalidInputError("--data", "the file holds no slices");
    const ids = new Set(slices.map((s) => s.deployment_id).filter((x): x is string => x !== undefined));
    const deploymentId = str(args, "deployment") ?? (ids.size === 1 ? [...ids][0]! : "replay");
    const ledger = openLedger(str(args, "ledger") ?? ":memory:", { clockMode: "manual" });
    const ctx: OperationContext = {
      ledger,
      clock: manualClock,
      actor: actorFromEnv(),
      assigner: await createAssigner(),
      readPolicyFile: () => "",
    };
    try {
      const result = replayDeployment(ctx, {
        deploymentId,
        policy: parsed.policy,
        slices: slices.map((s) => ({ ...s, deployment_id: deploymentId })),
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
          `${paint(color, result.final_state)} at ${result.final_percent}% after ${result.looks} looks: ${result.note}\n`,
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
