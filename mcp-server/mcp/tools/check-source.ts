import { sourceCheck, sourceCheckInput, sourceCheckOutput } from "../../operations/source-check.js";
import { defineTool } from "../tool.js";

export const checkSourceTool = defineTool({
  name: "check_source",
  title: "Pre-flight a policy's metric source",
  description:
    "Runs every query in a policy's source.series for every cohort over the last hour against the Prometheus it names, and returns per query the number of series, a sample value and a status (ok, empty, too_many_series, error). Run it on proposed queries before start_deployment: an empty query would hold every decision on no_data. Read-only; never touches the ledger.",
  input: sourceCheckInput,
  output: sourceCheckOutput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  run: sourceCheck,
});
