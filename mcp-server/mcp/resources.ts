import { type McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { ReadResourceResult } from "@modelcontextprotocol/sdk/types.js";
import { reportToMarkdown } from "../core/compare/markdown.js";
import { listDeployments } from "../ledger/deployments.js";
import { compareMetricsReport } from "../operations/compare-metrics.js";
import type { OperationContext } from "../operations/context.js";
import { deploymentHistory } from "../operations/deployment-history.js";
import { deploymentStatus } from "../operations/deployment-status.js";

// Context for clients that read rather than call: each deployment's status and its latest
// report, as JSON and as Markdown. Reading never changes anything.

function json(uri: URL, value: unknown): ReadResourceResult {
  return {
    contents: [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify(value, null, 2) }],
  };
}

function idOf(variables: Record<string, string | string[]>): string {
  const v = variables.id;
  return decodeURIComponent(Array.isArray(v) ? (v[0] ?? "") : (v ?? ""));
}

export function registerResources(server: McpServer, ctx: OperationContext): void {
  const list = () => ({
    resources: listDeployments(ctx.ledger, { limit: 50 }).map((d) => ({
      uri: `canary://deployments/${encodeURIComponent(d.id)}`,
      name: d.id,
      title: `${d.service} ${d.id} (${d.state}, ${d.percent}%)`,
      mimeType: "application/json",
    })),
  });

  server.registerResource(
    "deployment",
    new ResourceTemplate("canary://deployments/{id}", { list }),
    {
      title: "Deployment status",
      description: "State, step, percent, window, latest decision and audit head of a deployment",
      mimeType: "application/json",
    },
    (uri, variables) => json(uri, deploymentStatus(ctx, { deployment_id: idOf(variables) })),
  );

  server.registerResource(
    "deployment-report",
    new ResourceTemplate("canary://deployments/{id}/report", { list: undefined }),
    {
      title: "Comparison report",
      description: "The current canary-vs-control report (JSON)",
      mimeType: "application/json",
    },
    (uri, variables) => json(uri, compareMetricsReport(ctx, { deployment_id: idOf(variables) })),
  );

  server.registerResource(
    "deployment-report-markdown",
    new ResourceTemplate("canary://deployments/{id}/report.md", { list: undefined }),
    {
      title: "Comparison report (Markdown)",
      description:
        "The current report rendered for people, with Mermaid charts of evidence and values over time",
      mimeType: "text/markdown",
    },
    (uri, variables) => ({
      contents: [
        {
          uri: uri.href,
          mimeType: "text/markdown",
          text: reportToMarkdown(compareMetricsReport(ctx, { deployment_id: idOf(variables) }), {
            history: deploymentHistory(ctx, { deployment_id: idOf(variables) }, { report: false }).history,
          }),
        },
      ],
    }),
  );
}
