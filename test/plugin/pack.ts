import { accessSync, constants, existsSync, readdirSync, readFileSync } from "node:fs";
import { delimiter, join, relative } from "node:path";
import { parse as parseYaml } from "yaml";
import { REPO } from "../support/cli.js";

// Reading the Claude Code pack (skills, slash commands, plugin manifests) the way Claude Code does:
// YAML frontmatter between `---` lines, then markdown. Shared by the pack's tests.

export const PLUGIN_NAME = "canary-pilot";
/** The real clients' versions `.ci/run` installs (a test checks that they agree). */
export const CLAUDE_CODE_VERSION = "2.1.332";
export const INSPECTOR_VERSION = "2.12.0";
export const SERVER_NAME = "canary";
/** How Claude Code names a tool of a project `.mcp.json` server, and of the same server from the plugin. */
export const PROJECT_TOOL_PREFIX = `mcp__${SERVER_NAME}__`;
export const PLUGIN_TOOL_PREFIX = `mcp__plugin_${PLUGIN_NAME}_${SERVER_NAME}__`;

/** Claude Code's placeholder for the installed plugin's folder (a literal, not a template). */
// biome-ignore lint/suspicious/noTemplateCurlyInString: the placeholder Claude Code substitutes
export const PLUGIN_ROOT_VAR = "${CLAUDE_PLUGIN_ROOT}";

export const SKILLS_DIR = join(REPO, "skills");
export const COMMANDS_DIR = join(REPO, ".claude/commands");

export interface PackFile {
  /** Path relative to the repository, for messages. */
  path: string;
  frontmatter: Record<string, unknown>;
  body: string;
}

export interface Skill extends PackFile {
  /** The skill's directory name. */
  dir: string;
  /** Its reference files (any markdown besides SKILL.md), relative to the skill's directory. */
  references: string[];
}

export interface Fence {
  lang: string;
  text: string;
  /** Where it was found, for messages: "skills/x/SKILL.md block 2". */
  where: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Splits `---\nYAML\n---\nbody`; throws when the frontmatter is missing or not a YAML mapping. */
export function parseFrontmatter(
  text: string,
  path: string,
): { frontmatter: Record<string, unknown>; body: string } {
  const match = /^---\r?\n([\s\S]*?)\r?\n---\r?\n([\s\S]*)$/.exec(text);
  if (!match) throw new Error(`${path}: no YAML frontmatter between --- lines at the top`);
  // A markdown formatter that mistakes the opening --- for a rule puts a blank line after it (and
  // escapes the * of Bash(...:*) patterns); keep these files out of markdown formatting.
  if (!/^\S/.test(match[1] ?? ""))
    throw new Error(`${path}: the frontmatter must start on the line right after ---`);
  const frontmatter: unknown = parseYaml(match[1] ?? "");
  if (!isRecord(frontmatter)) throw new Error(`${path}: the frontmatter is not a YAML mapping`);
  return { frontmatter, body: match[2] ?? "" };
}

function readPackFile(path: string): PackFile {
  const rel = relative(REPO, path);
  return { path: rel, ...parseFrontmatter(readFileSync(path, "utf8"), rel) };
}

function markdownUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...markdownUnder(full));
    else if (entry.name.endsWith(".md")) out.push(full);
  }
  return out.sort();
}

export function loadSkills(): Skill[] {
  return readdirSync(SKILLS_DIR, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort()
    .map((dir) => {
      const root = join(SKILLS_DIR, dir);
      return {
        ...readPackFile(join(root, "SKILL.md")),
        dir,
        references: markdownUnder(root)
          .map((p) => relative(root, p))
          .filter((p) => p !== "SKILL.md"),
      };
    });
}

export function loadCommands(): (PackFile & { name: string })[] {
  return readdirSync(COMMANDS_DIR)
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => ({ ...readPackFile(join(COMMANDS_DIR, f)), name: f.replace(/\.md$/, "") }));
}

/** Every markdown file of the pack: skills with their references, and the slash commands. */
export function packMarkdown(): { path: string; text: string }[] {
  return [...markdownUnder(SKILLS_DIR), ...markdownUnder(COMMANDS_DIR)].map((p) => ({
    path: relative(REPO, p),
    text: readFileSync(p, "utf8"),
  }));
}

/** Fenced code blocks (``` or ~~~), with their language tag. */
export function fences(text: string, path: string): Fence[] {
  const out: Fence[] = [];
  const re = /^(```|~~~)([\w-]*)[^\n]*\n([\s\S]*?)^\1[ \t]*$/gm;
  for (const m of text.matchAll(re)) {
    out.push({
      lang: (m[2] ?? "").toLowerCase(),
      text: m[3] ?? "",
      where: `${path} block ${out.length + 1}`,
    });
  }
  return out;
}

/** A YAML block is a whole policy (and must validate) when it has the policy's required top-level keys. */
export function looksLikePolicy(value: unknown): value is Record<string, unknown> {
  return isRecord(value) && "service" in value && "ladder" in value && "metrics" in value;
}

/** `allowed-tools` as Claude Code reads it: a comma-separated string or a YAML list. */
export function allowedTools(frontmatter: Record<string, unknown>): string[] {
  const raw = frontmatter["allowed-tools"];
  if (raw === undefined) return [];
  const items = Array.isArray(raw) ? raw.map(String) : String(raw).split(",");
  return items.map((s) => s.trim()).filter((s) => s.length > 0);
}

export interface ToolMention {
  /** The MCP tool name on the server. */
  tool: string;
  /** How it was written. */
  as: string;
}

/** `mcp__<server>__<tool>` names anywhere in a text, with the server part they used. */
export function mcpToolNames(text: string): { server: string; tool: string; as: string }[] {
  return [...text.matchAll(/\bmcp__([A-Za-z0-9_-]+?)__([A-Za-z0-9_]+)/g)].map((m) => ({
    server: m[1] ?? "",
    tool: m[2] ?? "",
    as: m[0],
  }));
}

/**
 * Identifiers written in backticks: `compare_metrics`, and the call form `decide {deployment_id}`.
 * `called` marks the call form, which can only name a tool.
 */
export function backtickedIdentifiers(text: string): { name: string; called: boolean }[] {
  const out: { name: string; called: boolean }[] = [];
  for (const m of text.matchAll(/`([a-z][a-z0-9_]*)( \{[^`]*\})?`/g)) {
    out.push({ name: m[1] ?? "", called: m[2] !== undefined });
  }
  return out;
}

/** All property names and string enum values in a JSON Schema (the vocabulary tools speak). */
export function schemaVocabulary(schema: unknown, into: Set<string> = new Set()): Set<string> {
  if (Array.isArray(schema)) {
    for (const item of schema) schemaVocabulary(item, into);
  } else if (isRecord(schema)) {
    for (const [key, value] of Object.entries(schema)) {
      if (key === "properties" && isRecord(value)) for (const name of Object.keys(value)) into.add(name);
      if ((key === "enum" || key === "const") && value !== null) {
        for (const v of Array.isArray(value) ? value : [value]) if (typeof v === "string") into.add(v);
      }
      schemaVocabulary(value, into);
    }
  }
  return into;
}

/** The rule codes the server refuses with (`Refused (<rule>): ...`), read from its source. */
export function refusalRules(dir: string = join(REPO, "mcp-server")): Set<string> {
  const rules = new Set<string>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      for (const r of refusalRules(full)) rules.add(r);
    } else if (entry.name.endsWith(".ts")) {
      for (const m of readFileSync(full, "utf8").matchAll(/new RefusedError\(\s*([^,]*),/g)) {
        for (const code of (m[1] ?? "").matchAll(/"([a-z_]+)"/g)) rules.add(code[1] ?? "");
      }
    }
  }
  return rules;
}

/** An executable on PATH, as a shell would find it. */
export function findOnPath(bin: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, bin);
    try {
      accessSync(candidate, constants.X_OK);
      if (existsSync(candidate)) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * External CLIs the real-client checks need. In CI (CI set) a missing one is a failure: `.ci/run`
 * installs them. Elsewhere the suite is skipped with a message saying how to install it.
 */
export function externalCli(bin: string, install: string): { path: string | undefined; skip: boolean } {
  const path = findOnPath(bin);
  const skip = path === undefined && !process.env.CI;
  if (skip) {
    process.stderr.write(
      `\n[test/plugin] ${bin} is not on PATH: skipping its checks here (CI fails instead). Install: ${install}\n`,
    );
  }
  return { path, skip };
}
