import { decide, decideInput, decideOutput } from "../../operations/decide.js";
import { pullBefore } from "../../operations/pull-metrics.js";
import { defineTool } from "../tool.js";

export const decideTool = defineTool({
  name: "decide",
  title: "Decide: promote, hold or rollback",
  description:
    "Judges the deployment now and records the verdict (promote, hold, rollback) with reasons, machine-readable reason_codes, the report, the policy and inputs hashes, and next_check_at. With a Prometheus source in the policy it first pulls the complete slices not yet stored; a failed query holds with provider_error. It does not move traffic: call promote_step or rollback to act.",
  input: decideInput,
  output: decideOutput,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  run: async (ctx, input) => {
    return decide(ctx, input, await pullBefore(ctx, input));
  },
});
