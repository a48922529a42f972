import { sourceExplore, sourceExploreInput, sourceExploreOutput } from "../../operations/source-explore.js";
import { defineTool } from "../tool.js";

export const exploreMetricsTool = defineTool({
  name: "explore_metrics",
  title: "Explore a service's metrics in Prometheus",
  description:
    "Asks the Prometheus named in a draft policy (source.prometheus, or url) which metrics, labels and label values exist for a service over the last hour (series, labels and metadata endpoints, bounded by limit), and which labels may tell canary from control. Use it to propose source.series queries from what really exists, then check them with check_source. Read-only.",
  input: sourceExploreInput,
  output: sourceExploreOutput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  run: sourceExplore,
});
