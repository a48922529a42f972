import type { Command } from "../command.js";

/**
 * Every `canary` command, declared in one place. Only the name and summary live here; a command's
 * code (and what it imports: the MCP SDK, the HTTP server, the judge) loads only when it runs, so
 * a CLI step in CI starts about as fast as node itself.
 */
export interface CommandEntry {
  name: string;
  summary: string;
  load: () => Promise<Command>;
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: "start",
    summary: "start a canary deployment at the first rung of its policy's ladder",
    load: async () => (await import("./start.js")).startCommand,
  },
  {
    name: "ingest",
    summary: "load metric slices from NDJSON (a file or stdin)",
    load: async () => (await import("./ingest.js")).ingestCommand,
  },
  {
    name: "compare",
    summary: "compare canary and control now (read-only report)",
    load: async () => (await import("./compare.js")).compareCommand,
  },
  {
    name: "decide",
    summary: "judge now and record the verdict (does not move traffic)",
    load: async () => (await import("./decide.js")).decideCommand,
  },
  {
    name: "promote",
    summary: "move one rung up the ladder (needs a fresh promote verdict or an approver's override)",
    load: async () => (await import("./promote.js")).promoteCommand,
  },
  {
    name: "rollback",
    summary: "pull the brake: canary to 0%, evidence kept, author told",
    load: async () => (await import("./rollback.js")).rollbackCommand,
  },
  {
    name: "pause",
    summary: "freeze the ladder where it is (rollback still works)",
    load: async () => (await import("./pause.js")).pauseCommand,
  },
  {
    name: "resume",
    summary: "let a paused deployment go on",
    load: async () => (await import("./pause.js")).resumeCommand,
  },
  {
    name: "status",
    summary: "show one deployment (or list active and recent ones)",
    load: async () => (await import("./status.js")).statusCommand,
  },
  {
    name: "tick",
    summary: "do whatever is due for every active deployment (cron-friendly, idempotent)",
    load: async () => (await import("./tick.js")).tickCommand,
  },
  {
    name: "watch",
    summary: "drive one deployment to its end, with live progress",
    load: async () => (await import("./watch.js")).watchCommand,
  },
  {
    name: "replay",
    summary: "run a whole ladder on recorded slices with a virtual clock",
    load: async () => (await import("./replay.js")).replayCommand,
  },
  {
    name: "assign",
    summary: "which cohort a unit (user) is in for a deployment",
    load: async () => (await import("./assign.js")).assignCommand,
  },
  {
    name: "audit",
    summary: "show the hash-chained audit trail; --verify checks it",
    load: async () => (await import("./audit.js")).auditCommand,
  },
  {
    name: "policy validate",
    summary: "check a policy file and list every error with its path and line",
    load: async () => (await import("./policy-validate.js")).policyValidateCommand,
  },
  {
    name: "preflight",
    summary: "power check: can each rung prove its guardrails within its window at this traffic?",
    load: async () => (await import("./preflight.js")).preflightCommand,
  },
  {
    name: "mcp",
    summary: "serve the canary tools over MCP stdio",
    load: async () => (await import("./mcp.js")).mcpCommand,
  },
  {
    name: "serve",
    summary: "serve the MCP tools over HTTP, REST for routers, and the status page",
    load: async () => (await import("./serve.js")).serveCommand,
  },
  {
    name: "demo",
    summary: "run a healthy and a bad release end to end on a local ledger",
    load: async () => (await import("./demo.js")).demoCommand,
  },
  {
    name: "source check",
    summary: "pre-flight a policy's Prometheus queries over the last hour",
    load: async () => (await import("./source.js")).sourceCheckCommand,
  },
  {
    name: "source explore",
    summary: "list the metrics, labels and label values a Prometheus has for a service",
    load: async () => (await import("./source.js")).sourceExploreCommand,
  },
  {
    name: "report",
    summary: "a deployment's report with charts: Markdown for CI and chat, a self-contained HTML page",
    load: async () => (await import("./report.js")).reportCommand,
  },
];
