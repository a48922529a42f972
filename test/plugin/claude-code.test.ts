import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { REPO, tempDir } from "../support/cli.js";
import { connectCanary } from "../support/mcp-client.js";
import {
  CLAUDE_CODE_VERSION,
  externalCli,
  loadCommands,
  loadSkills,
  PLUGIN_NAME,
  PLUGIN_ROOT_VAR,
  PLUGIN_TOOL_PREFIX,
  PROJECT_TOOL_PREFIX,
  SERVER_NAME,
} from "./pack.js";

// The real Claude Code CLI loads the pack: its validator accepts the plugin and the marketplace, and
// the first line of `claude -p ... --output-format stream-json --verbose` (the system/init event,
// printed before it stops at "Not logged in") lists the canary server as connected with every tool,
// and every skill and slash command. No login and no network are needed.

const claude = externalCli("claude", `npm install -g @anthropic-ai/claude-code@${CLAUDE_CODE_VERSION}`);

const initEventSchema = z.looseObject({
  type: z.literal("system"),
  subtype: z.literal("init"),
  cwd: z.string(),
  tools: z.array(z.string()),
  mcp_servers: z.array(z.looseObject({ name: z.string(), status: z.string() })),
  slash_commands: z.array(z.string()),
  skills: z.array(z.string()),
  plugins: z.array(z.looseObject({ name: z.string(), path: z.string() })),
});
type InitEvent = z.infer<typeof initEventSchema>;

const validateReportSchema = z.looseObject({
  success: z.boolean(),
  manifest: z.looseObject({
    type: z.string(),
    errors: z.array(z.unknown()),
    warnings: z.array(z.unknown()),
  }),
  provides: z
    .looseObject({
      skills: z.array(z.string()),
      commands: z.array(z.string()),
      mcpServers: z.array(z.looseObject({ name: z.string(), target: z.string(), args: z.array(z.string()) })),
    })
    .nullable(),
});

/**
 * A clean environment: a fresh HOME (no login, no user settings, no other plugins) and none of the
 * caller's credentials, so the run can never reach a model. CANARY_* reach the MCP server.
 */
function claudeEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? "",
    HOME: home,
    NO_COLOR: "1",
    DISABLE_AUTOUPDATER: "1",
    DISABLE_TELEMETRY: "1",
    DISABLE_ERROR_REPORTING: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    CANARY_ACTOR: "tester@example.com",
    ...extra,
  };
}

function runClaude(
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(claude.path ?? "claude", args, { cwd, env, encoding: "utf8", timeout: 120_000 });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The system/init event: the first line of the stream, whatever happens after it. */
function initEventOnce(args: string[], cwd: string, env: NodeJS.ProcessEnv): InitEvent {
  const r = runClaude(["-p", "hi", "--output-format", "stream-json", "--verbose", ...args], cwd, env);
  const first = r.stdout.split("\n")[0] ?? "";
  expect(first, `claude printed no init event (exit ${r.code}): ${r.stderr}`).toMatch(/^\{/);
  // Without a login it stops right after the init event; that is the expected end here.
  expect(r.stdout).toContain("Not logged in");
  return initEventSchema.parse(JSON.parse(first));
}

/**
 * Claude Code connects MCP servers without waiting for them: on a loaded machine the init event
 * can list a server as "pending" (still starting), which says nothing either way. Asked again up
 * to twice; a server that failed, or never connects, still fails the test.
 */
function initEvent(args: string[], cwd: string, env: NodeJS.ProcessEnv): InitEvent {
  let init = initEventOnce(args, cwd, env);
  for (let retry = 0; retry < 2 && init.mcp_servers.some((m) => m.status === "pending"); retry++) {
    init = initEventOnce(args, cwd, env);
  }
  return init;
}

describe.skipIf(claude.skip)("Claude Code loads the pack (real CLI, offline)", () => {
  const home = tempDir("canary-claude-home-");
  const skills = loadSkills().map((s) => s.dir);
  const commands = loadCommands().map((c) => c.name);
  let serverTools: string[] = [];

  beforeAll(async () => {
    // The tools the server really offers, from the SDK's own client, to compare with what Claude Code saw.
    const client: Client = await connectCanary({ ledger: join(tempDir(), "ledger.db") });
    serverTools = (await client.listTools()).tools.map((t) => t.name).sort();
    await client.close();
  });
  afterAll(() => {
    rmSync(home, { recursive: true, force: true });
  });

  it("is installed, at the pinned 2.1 line", () => {
    expect(claude.path, "install it: see .ci/run").toBeDefined();
    const r = runClaude(["--version"], REPO, claudeEnv(home));
    expect(r.stdout).toMatch(/^2\.1\.\d+ /);
    if (!r.stdout.startsWith(`${CLAUDE_CODE_VERSION} `)) {
      process.stderr.write(`[test/plugin] claude ${r.stdout.trim()} (CI pins ${CLAUDE_CODE_VERSION})\n`);
    }
  });

  it("`claude plugin validate . --strict` accepts the marketplace and the plugin it lists, with every component", () => {
    const r = runClaude(["plugin", "validate", ".", "--strict", "--json"], REPO, claudeEnv(home));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const report = validateReportSchema.parse(JSON.parse(r.stdout));
    expect(report.success).toBe(true);
    // With a marketplace at the root, `.` validates it together with the plugin it lists.
    expect(report.manifest.type).toBe("marketplace");
    expect(report.manifest.errors).toEqual([]);
    expect(report.manifest.warnings).toEqual([]);
    expect(report.provides?.skills.sort()).toEqual(skills.map((s) => `${PLUGIN_NAME}:${s}`));
    expect(report.provides?.commands.sort()).toEqual(commands.map((c) => `${PLUGIN_NAME}:${c}`));
    expect(report.provides?.mcpServers).toContainEqual(
      expect.objectContaining({
        name: SERVER_NAME,
        target: "node",
        args: [`${PLUGIN_ROOT_VAR}/dist/cli/main.js`, "mcp"],
      }),
    );
  });

  it("`claude plugin validate --strict` accepts the plugin manifest itself", () => {
    const r = runClaude(
      ["plugin", "validate", ".claude-plugin/plugin.json", "--strict", "--json"],
      REPO,
      claudeEnv(home),
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const report = validateReportSchema.parse(JSON.parse(r.stdout));
    expect(report.success).toBe(true);
    expect(report.manifest.type).toBe("plugin");
    expect(report.manifest.errors).toEqual([]);
    expect(report.manifest.warnings).toEqual([]);
  });

  it("--plugin-dir: the plugin's canary server is connected with every tool, and all skills and commands load", () => {
    // From another directory, as in a team's repository: the server runs from the plugin root and
    // keeps its ledger in the directory Claude Code runs in.
    const project = tempDir("canary-claude-project-");
    const init = initEvent(["--plugin-dir", REPO], project, claudeEnv(home));
    // One server: the manifest's own definition under the plugin root (the root .mcp.json is the project's).
    expect(init.mcp_servers).toEqual([
      expect.objectContaining({ name: `plugin:${PLUGIN_NAME}:${SERVER_NAME}`, status: "connected" }),
    ]);
    const tools = init.tools
      .filter((t) => t.startsWith(PLUGIN_TOOL_PREFIX))
      .map((t) => t.slice(PLUGIN_TOOL_PREFIX.length));
    expect(tools.sort()).toEqual(serverTools);
    expect(init.plugins).toContainEqual(expect.objectContaining({ name: PLUGIN_NAME, path: REPO }));
    for (const s of skills) {
      expect(init.skills).toContain(`${PLUGIN_NAME}:${s}`);
      expect(init.slash_commands).toContain(`${PLUGIN_NAME}:${s}`);
    }
    for (const c of commands) expect(init.slash_commands).toContain(`${PLUGIN_NAME}:${c}`);
    expect(existsSync(join(project, ".canary/ledger.db")), "the ledger lives in the user's project").toBe(
      true,
    );
  });

  it("--mcp-config .mcp.json: the project's canary server is connected with every tool, with the repo's skills and commands", () => {
    const ledger = join(tempDir(), "ledger.db");
    const init = initEvent(
      ["--mcp-config", ".mcp.json", "--strict-mcp-config"],
      REPO,
      claudeEnv(home, { CANARY_LEDGER: ledger }),
    );
    expect(init.cwd).toBe(REPO);
    expect(init.mcp_servers).toContainEqual(
      expect.objectContaining({ name: SERVER_NAME, status: "connected" }),
    );
    const tools = init.tools
      .filter((t) => t.startsWith(PROJECT_TOOL_PREFIX))
      .map((t) => t.slice(PROJECT_TOOL_PREFIX.length));
    expect(tools.sort()).toEqual(serverTools);
    for (const s of skills) expect(init.skills).toContain(s);
    for (const c of commands) expect(init.slash_commands).toContain(c);
    expect(existsSync(ledger), "the server took CANARY_LEDGER from Claude Code's environment").toBe(true);
  });

  it("installs into another repository from the marketplace and runs there", () => {
    const installHome = tempDir("canary-claude-install-");
    const project = join(installHome, "service");
    mkdirSync(project);
    try {
      const env = claudeEnv(installHome);
      const added = runClaude(["plugin", "marketplace", "add", REPO], project, env);
      expect(added.code, added.stdout + added.stderr).toBe(0);
      const installed = runClaude(
        ["plugin", "install", `${PLUGIN_NAME}@${PLUGIN_NAME}`, "--scope", "project"],
        project,
        env,
      );
      expect(installed.code, installed.stdout + installed.stderr).toBe(0);
      expect(existsSync(join(project, ".claude/settings.json"))).toBe(true);
      const init = initEvent([], project, env);
      expect(init.mcp_servers).toContainEqual(
        expect.objectContaining({ name: `plugin:${PLUGIN_NAME}:${SERVER_NAME}`, status: "connected" }),
      );
      const tools = init.tools
        .filter((t) => t.startsWith(PLUGIN_TOOL_PREFIX))
        .map((t) => t.slice(PLUGIN_TOOL_PREFIX.length));
      expect(tools.sort()).toEqual(serverTools);
      for (const s of skills) expect(init.skills).toContain(`${PLUGIN_NAME}:${s}`);
      for (const c of commands) expect(init.slash_commands).toContain(`${PLUGIN_NAME}:${c}`);
    } finally {
      rmSync(installHome, { recursive: true, force: true });
    }
  }, 180_000);
});
