import { existsSync, lstatSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { REASON_CODES } from "../../mcp-server/core/decision.js";
import { policyJsonSchema } from "../../mcp-server/core/policy/json-schema.js";
import { REPO, tempDir } from "../support/cli.js";
import { call, connectCanary, errorText } from "../support/mcp-client.js";
import { basicPolicy } from "../support/policies.js";
import {
  allowedTools,
  backtickedIdentifiers,
  CLAUDE_CODE_VERSION,
  fences,
  INSPECTOR_VERSION,
  loadCommands,
  loadSkills,
  looksLikePolicy,
  mcpToolNames,
  PLUGIN_NAME,
  PLUGIN_ROOT_VAR,
  PLUGIN_TOOL_PREFIX,
  PROJECT_TOOL_PREFIX,
  packMarkdown,
  refusalRules,
  SERVER_NAME,
  schemaVocabulary,
} from "./pack.js";

// The pack's text against the real server: every tool it names exists, every field it names is one
// the tools or the policy speak, every example policy validates and every example slice is accepted.

const EXPECTED_SKILLS = ["canary-deploy", "canary-policy", "canary-report", "canary-rollback-handoff"];
const EXPECTED_COMMANDS = [
  "canary-compare",
  "canary-decide",
  "canary-promote",
  "canary-rollback",
  "canary-start",
  "canary-status",
];
/** Claude Code's own tools a skill or command may pre-approve besides read-only canary tools. */
const OTHER_ALLOWED =
  // Never `npx canary`: it would fetch an unrelated registry package named `canary`.
  /^(Read|Glob|Grep|Bash\(canary (policy validate|preflight|replay|status|compare|audit|source check|source explore):\*\))$/;
/** Statistic names the judge builds at run time ("segment_error_rate_p90"), which no schema lists. */
const RUNTIME_NAMES = /^segment_[a-z_]+_p\d+$/;

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(REPO, path), "utf8")) as Record<string, unknown>;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** Names an example policy introduces (metric, series, dimension names), so the text may use them. */
function policyNames(policy: Record<string, unknown>): string[] {
  const names: string[] = [];
  for (const m of Array.isArray(policy.metrics) ? policy.metrics : []) {
    if (typeof m !== "object" || m === null) continue;
    const metric = m as Record<string, unknown>;
    for (const key of ["name", "events", "trials", "series"]) {
      if (typeof metric[key] === "string") names.push(metric[key]);
    }
    names.push(...strings(metric.dims));
  }
  const source = policy.source as Record<string, unknown> | undefined;
  if (source && typeof source.series === "object" && source.series !== null)
    names.push(...Object.keys(source.series));
  return names;
}

describe("the Claude Code pack against the real canary server", () => {
  const dir = tempDir("canary-pack-");
  let client: Client;
  let manual: Client;
  let tools: Tool[];
  const toolNames = new Set<string>();
  const readOnly = new Set<string>();
  const skills = loadSkills();
  const commands = loadCommands();
  const markdown = packMarkdown();

  beforeAll(async () => {
    client = await connectCanary({ ledger: join(dir, "ledger.db") });
    manual = await connectCanary({ ledger: join(dir, "manual.db"), clock: "manual" });
    tools = (await client.listTools()).tools;
    for (const t of tools) {
      toolNames.add(t.name);
      if (t.annotations?.readOnlyHint === true) readOnly.add(t.name);
    }
  });
  afterAll(async () => {
    await client?.close();
    await manual?.close();
  });

  it("has the four skills and the slash commands", () => {
    expect(skills.map((s) => s.dir)).toEqual(EXPECTED_SKILLS);
    expect(commands.map((c) => c.name)).toEqual(EXPECTED_COMMANDS);
    // Skills are slash commands too, in the same namespace: a shared name would hide one of them.
    expect(EXPECTED_COMMANDS.filter((c) => EXPECTED_SKILLS.includes(c))).toEqual([]);
  });

  describe("frontmatter", () => {
    it.each(skills.map((s) => [s.path, s] as const))(
      "%s: name, description, allowed-tools",
      (_path, skill) => {
        const { name, description } = skill.frontmatter;
        expect(
          Object.keys(skill.frontmatter).every((k) => ["name", "description", "allowed-tools"].includes(k)),
        ).toBe(true);
        expect(name).toBe(skill.dir);
        expect(typeof name === "string" && /^[a-z0-9-]+$/.test(name) && name.length <= 64).toBe(true);
        expect(typeof description).toBe("string");
        const text = String(description);
        expect(text.length).toBeGreaterThan(50);
        expect(text.length).toBeLessThanOrEqual(1024);
        expect(text).not.toMatch(/[<>]/);
        expect(text, "a description says when to use the skill").toMatch(/\bUse (it )?(when|after)\b/);
      },
    );

    it.each(commands.map((c) => [c.path, c] as const))(
      "%s: description, argument-hint, allowed-tools",
      (_p, cmd) => {
        const keys = Object.keys(cmd.frontmatter);
        expect(keys.every((k) => ["description", "argument-hint", "allowed-tools"].includes(k))).toBe(true);
        const description = String(cmd.frontmatter.description ?? "");
        expect(description.length).toBeGreaterThan(20);
        expect(description.length).toBeLessThanOrEqual(1024);
        expect(description).not.toMatch(/[<>]/);
        expect(typeof cmd.frontmatter["argument-hint"]).toBe("string");
        expect(allowedTools(cmd.frontmatter).length).toBeGreaterThan(0);
        expect(cmd.body, "a command uses its arguments").toMatch(/\$(ARGUMENTS|\d)/);
      },
    );
  });

  it("every reference file is linked from its SKILL.md, and every link resolves", () => {
    for (const skill of skills) {
      for (const ref of skill.references) expect(skill.body, `${skill.path} links ${ref}`).toContain(ref);
      for (const m of skill.body.matchAll(/`(reference\/[\w.-]+\.md)`/g)) {
        expect(existsSync(join(REPO, "skills", skill.dir, m[1] ?? "")), `${skill.path}: ${m[1]}`).toBe(true);
      }
    }
  });

  it("skills and commands named in the text exist", () => {
    for (const { path, text } of markdown) {
      for (const m of text.matchAll(/\b(canary-[a-z-]+) skill\b/g)) {
        expect(EXPECTED_SKILLS, `${path} names the skill ${m[1]}`).toContain(m[1]);
      }
      for (const m of text.matchAll(/(?<![\w/])\/(canary-[a-z-]+)/g)) {
        expect(EXPECTED_COMMANDS, `${path} names the command /${m[1]}`).toContain(m[1]);
      }
    }
  });

  it("every mcp__ tool name uses the project or plugin form of the canary server and a real tool", () => {
    const servers = [SERVER_NAME, `plugin_${PLUGIN_NAME}_${SERVER_NAME}`];
    const files = [
      ...markdown,
      { path: ".claude/settings.json", text: readFileSync(join(REPO, ".claude/settings.json"), "utf8") },
    ];
    let seen = 0;
    for (const { path, text } of files) {
      for (const m of mcpToolNames(text)) {
        seen++;
        expect(servers, `${path}: ${m.as}`).toContain(m.server);
        expect([...toolNames], `${path}: ${m.as}`).toContain(m.tool);
      }
    }
    expect(seen).toBeGreaterThan(20);
  });

  it("every backticked identifier is a tool, or a field, value or code the product speaks", () => {
    const vocabulary = new Set<string>([...toolNames, ...REASON_CODES, ...refusalRules()]);
    for (const t of tools) {
      schemaVocabulary(t.inputSchema, vocabulary);
      schemaVocabulary(t.outputSchema, vocabulary);
    }
    schemaVocabulary(policyJsonSchema(), vocabulary);
    for (const { text } of markdown) {
      for (const f of fences(text, "")) {
        if (f.lang !== "yaml") continue;
        const value: unknown = parseYaml(f.text);
        if (looksLikePolicy(value)) for (const n of policyNames(value)) vocabulary.add(n);
      }
    }
    const unknown: string[] = [];
    let toolMentions = 0;
    for (const { path, text } of markdown) {
      for (const { name, called } of backtickedIdentifiers(text)) {
        if (called) {
          toolMentions++;
          if (!toolNames.has(name)) unknown.push(`${path}: \`${name} {...}\` is not a tool`);
        } else if (name.includes("_") && !vocabulary.has(name) && !RUNTIME_NAMES.test(name)) {
          unknown.push(`${path}: \`${name}\` is neither a tool nor a field, value or code of the product`);
        }
      }
    }
    expect(unknown).toEqual([]);
    expect(toolMentions).toBeGreaterThan(10);
  });

  it("skills and commands pre-approve only read-only tools, in both the project and the plugin form", () => {
    for (const file of [...skills, ...commands]) {
      const allowed = allowedTools(file.frontmatter);
      for (const entry of allowed) {
        const mcp = mcpToolNames(entry)[0];
        if (!mcp) {
          expect(entry, `${file.path}: ${entry}`).toMatch(OTHER_ALLOWED);
          continue;
        }
        expect(readOnly.has(mcp.tool), `${file.path} pre-approves ${entry}, which is not read-only`).toBe(
          true,
        );
        expect(allowed, file.path).toContain(`${PROJECT_TOOL_PREFIX}${mcp.tool}`);
        expect(allowed, file.path).toContain(`${PLUGIN_TOOL_PREFIX}${mcp.tool}`);
      }
    }
  });

  it("settings.json allows exactly the read-only tools and asks for every tool that writes, in both forms", () => {
    const settings = readJson(".claude/settings.json");
    const permissions = settings.permissions as Record<string, unknown>;
    const both = (names: string[]) =>
      names.flatMap((n) => [`${PROJECT_TOOL_PREFIX}${n}`, `${PLUGIN_TOOL_PREFIX}${n}`]).sort();
    const writers = [...toolNames].filter((n) => !readOnly.has(n));
    // The contract's read-only and writing tools; any tool added later is covered by its annotations.
    expect([...readOnly]).toEqual(
      expect.arrayContaining([
        "assign_cohort",
        "audit_log",
        "compare_metrics",
        "deployment_status",
        "list_deployments",
        "validate_policy",
      ]),
    );
    expect(writers.sort()).toEqual(
      expect.arrayContaining(["start_deployment", "record_metrics", "decide", "promote_step", "rollback"]),
    );
    expect(strings(permissions.allow).sort()).toEqual(both([...readOnly]));
    expect(strings(permissions.ask).sort()).toEqual(both(writers));
    expect(strings(settings.enabledMcpjsonServers)).toEqual([SERVER_NAME]);
  });

  it("every YAML example parses, and every complete policy in the pack passes validate_policy", async () => {
    const policies: string[] = [];
    for (const { path, text } of markdown) {
      for (const f of fences(text, path)) {
        if (f.lang !== "yaml" && f.lang !== "yml") continue;
        const value: unknown = parseYaml(f.text);
        if (!looksLikePolicy(value)) continue;
        const file = join(dir, `policy-${policies.length}.yaml`);
        writeFileSync(file, f.text);
        const result = await call(client, "validate_policy", { policy: file });
        expect(result.isError, `${f.where}: ${errorText(result)}`).toBeFalsy();
        expect(result.structuredContent, f.where).toMatchObject({ valid: true, errors: [] });
        policies.push(f.where);
      }
    }
    expect(
      policies.filter((w) => w.startsWith("skills/canary-policy/SKILL.md")).length,
    ).toBeGreaterThanOrEqual(2);
  });

  it("every JSON example parses, and every example slice is accepted by record_metrics", async () => {
    const slices: unknown[] = [];
    for (const { path, text } of markdown) {
      for (const f of fences(text, path)) {
        if (f.lang !== "json") continue;
        const value: unknown = JSON.parse(f.text);
        if (typeof value === "object" && value !== null && "cohort" in value && "t" in value)
          slices.push(value);
      }
    }
    expect(slices.length).toBeGreaterThan(0);
    // One deployment per example: one example is segmented and another is not, which one series refuses.
    for (const [i, slice] of slices.entries()) {
      const id = `pack-slices-${i}`;
      const start = await call(manual, "start_deployment", {
        deployment_id: id,
        policy: basicPolicy({ service: id }),
        at: "2026-05-26T10:00:00Z",
      });
      expect(start.isError, errorText(start)).toBeFalsy();
      const recorded = await call(manual, "record_metrics", {
        deployment_id: id,
        slices: [slice],
        at: "2026-05-26T10:30:00Z",
      });
      expect(recorded.isError, `example slice ${i}: ${errorText(recorded)}`).toBeFalsy();
    }
  });

  it("the project .mcp.json starts the built server from the repository root, from a real file", () => {
    const config = readJson(".mcp.json");
    const server = (config.mcpServers as Record<string, { command: string; args: string[] }>)[SERVER_NAME];
    expect(server?.command).toBe("node");
    expect(server?.args.at(-1)).toBe("mcp");
    const entry = join(REPO, server?.args[0] ?? "");
    expect(lstatSync(entry).isSymbolicLink()).toBe(false);
    expect(statSync(entry).isFile()).toBe(true);
  });

  it("the plugin manifest names the pack, its version, its folders and its server under the plugin root", () => {
    const pkg = readJson("package.json");
    const plugin = readJson(".claude-plugin/plugin.json");
    expect(plugin.name).toBe(PLUGIN_NAME);
    expect(plugin.version).toBe(pkg.version);
    expect(plugin.license).toBe(pkg.license);
    for (const key of ["commands", "skills"] as const) {
      const path = String(plugin[key]);
      expect(path.startsWith("./")).toBe(true);
      expect(statSync(join(REPO, path)).isDirectory()).toBe(true);
    }
    const server = (plugin.mcpServers as Record<string, { command: string; args: string[] }>)[SERVER_NAME];
    expect(server?.command).toBe("node");
    const [entry, ...rest] = server?.args ?? [];
    expect(entry?.startsWith(`${PLUGIN_ROOT_VAR}/`)).toBe(true);
    expect(rest).toEqual(["mcp"]);
    const file = join(REPO, (entry ?? "").replace(`${PLUGIN_ROOT_VAR}/`, ""));
    expect(lstatSync(file).isSymbolicLink(), "a symlinked entry fails Claude Code's main-module check").toBe(
      false,
    );
    expect(statSync(file).isFile()).toBe(true);
    // The same entry the package's bin and the project .mcp.json use.
    expect((pkg.bin as Record<string, string>).canary).toBe(entry?.replace(`${PLUGIN_ROOT_VAR}/`, ""));
  });

  it("the marketplace lists the plugin from this repository, and the package ships the pack", () => {
    const pkg = readJson("package.json");
    const market = readJson(".claude-plugin/marketplace.json");
    const entries = (market.plugins as { name: string; source: string; version?: string }[]) ?? [];
    expect(entries.map((p) => p.name)).toEqual([PLUGIN_NAME]);
    expect(entries[0]?.source).toBe("./");
    expect(entries[0]?.version).toBe(pkg.version);
    expect(existsSync(join(REPO, entries[0]?.source ?? "", ".claude-plugin/plugin.json"))).toBe(true);
    expect(strings(pkg.files)).toEqual(
      expect.arrayContaining(["skills", ".claude", ".claude-plugin", ".mcp.json"]),
    );
  });

  it(".ci/run installs the pinned Claude Code and Inspector the real-client tests expect", () => {
    const ci = readFileSync(join(REPO, ".ci/run"), "utf8");
    expect(ci).toContain(`@anthropic-ai/claude-code@${CLAUDE_CODE_VERSION}`);
    expect(ci).toContain(`@modelcontextprotocol/inspector@${INSPECTOR_VERSION}`);
    expect(CLAUDE_CODE_VERSION).toMatch(/^2\.1\.\d+$/);
    expect(INSPECTOR_VERSION).toMatch(/^2\.\d+\.\d+$/);
    // Installed before the tests run, which fail rather than skip in CI when a client is missing.
    expect(ci.indexOf("@anthropic-ai/claude-code@")).toBeLessThan(ci.indexOf("npm test"));
    expect(ci).toMatch(/^export CI=true$/m);
  });

  it("README.md ends with the Claude Code section", () => {
    const readme = readFileSync(join(REPO, "README.md"), "utf8");
    const headings = [...readme.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    expect(headings.at(-1)).toBe("Claude Code");
    const section = readme.slice(readme.lastIndexOf("## Claude Code"));
    expect(section).toContain("claude plugin marketplace add");
    expect(section).toContain("claude plugin install canary-pilot@canary-pilot");
  });
});
