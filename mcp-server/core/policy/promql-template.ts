// PromQL templates in a policy's source.series. Pure: checked at validation, rendered at pull
// time. Every value that comes from a deployment (id, cohort label, service, version, vars)
// lands inside a quoted PromQL string and is escaped as one, so no value can close the string
// and add a matcher that reaches another deployment's series. Inside a regex matcher (=~, !~)
// the value is also regex-escaped, so ".*" matches only the text ".*".

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}/y;
const VAR_NAME = /^vars\.([A-Za-z_][A-Za-z0-9_]{0,63})$/;
const FIXED = new Set(["deployment", "cohort", "service", "version", "slice"]);

export interface TemplateIssue {
  message: string;
}

type Part =
  | { kind: "text"; text: string }
  | { kind: "value"; name: string; quote: '"' | "'"; regex: boolean }
  | { kind: "slice" };

interface Parsed {
  parts: Part[];
  issues: string[];
}

function parse(template: string): Parsed {
  const parts: Part[] = [];
  const issues: string[] = [];
  let text = "";
  let quote: '"' | "'" | "`" | null = null;
  let regex = false;
  const stack: string[] = [];
  const closers: Record<string, string> = { ")": "(", "]": "[", "}": "{" };
  let i = 0;
  while (i < template.length) {
    PLACEHOLDER.lastIndex = i;
    const m = PLACEHOLDER.exec(template);
    if (m) {
      const name = m[1]!;
      if (text) parts.push({ kind: "text", text });
      text = "";
      if (!FIXED.has(name) && !VAR_NAME.test(name)) {
        issues.push(
          `unknown placeholder {{${name}}}; use {{deployment}}, {{cohort}}, {{service}}, {{version}}, {{slice}} or {{vars.NAME}}`,
        );
      } else if (name === "slice") {
        if (quote !== null)
          issues.push("{{slice}} is a PromQL duration: put it outside quotes, e.g. [{{slice}}]");
        parts.push({ kind: "slice" });
      } else if (quote === null || quote === "`") {
        issues.push(
          `{{${name}}} must sit inside a double- or single-quoted label value, e.g. label="{{${name}}}", so its value is escaped`,
        );
      } else {
        parts.push({ kind: "value", name, quote, regex });
      }
      i += m[0].length;
      continue;
    }
    const c = template[i]!;
    if (quote !== null) {
      if (c === "\\" && quote !== "`") {
        text += template.slice(i, i + 2);
        i += 2;
        continue;
      }
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'" || c === "`") {
      quote = c;
      // A regex matcher: the last operator before this string is =~ or !~.
      regex = /[=!]~\s*$/.test(template.slice(Math.max(0, i - 8), i));
    } else if (c === "(" || c === "[" || c === "{") stack.push(c);
    else if (c === ")" || c === "]" || c === "}") {
      if (stack.pop() !== closers[c]) {
        issues.push(`unbalanced ${c} at character ${i + 1}`);
        return { parts, issues };
      }
    }
    text += c;
    i++;
  }
  if (text) parts.push({ kind: "text", text });
  if (quote !== null) issues.push(`unbalanced quotes: the string opened with ${quote} is never closed`);
  else if (stack.length > 0) issues.push(`unbalanced ${stack[stack.length - 1]}: it is never closed`);
  return { parts, issues };
}

/** Problems with a template, each a sentence saying what to fix (empty when fine). */
export function checkTemplate(template: string): string[] {
  return parse(template).issues;
}

/** The placeholder names a template uses (vars as "vars.NAME"). */
export function templatePlaceholders(template: string): string[] {
  const names = new Set<string>();
  for (const p of parse(template).parts) if (p.kind === "value") names.add(p.name);
  return [...names];
}

const RE2_META = /[\\.+*?()|[\]{}^$]/g;

/** Escapes a value for a PromQL quoted string (Go string escapes). */
export function escapePromqlString(value: string, quote: '"' | "'"): string {
  let out = "";
  for (const ch of value) {
    if (ch === "\\") out += "\\\\";
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch.charCodeAt(0) < 0x20) out += `\\x${ch.charCodeAt(0).toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return out;
}

export interface TemplateValues {
  deployment: string;
  cohort: string;
  service: string;
  version: string | null;
  slice: string;
  vars: Record<string, string>;
}

/** The value a placeholder stands for, or undefined when the deployment does not have it. */
export function placeholderValue(name: string, v: TemplateValues): string | undefined {
  if (name === "deployment") return v.deployment;
  if (name === "cohort") return v.cohort;
  if (name === "service") return v.service;
  if (name === "version") return v.version ?? undefined;
  const m = VAR_NAME.exec(name);
  return m ? v.vars[m[1]!] : undefined;
}

/** Renders a checked template; throws naming the placeholder a deployment lacks. */
export function renderTemplate(template: string, v: TemplateValues): string {
  const { parts, issues } = parse(template);
  if (issues.length > 0) throw new Error(issues[0]);
  let out = "";
  for (const p of parts) {
    if (p.kind === "text") out += p.text;
    else if (p.kind === "slice") out += v.slice;
    else {
      const raw = placeholderValue(p.name, v);
      if (raw === undefined) throw new Error(`the deployment has no value for {{${p.name}}}`);
      out += escapePromqlString(p.regex ? raw.replace(RE2_META, "\\$&") : raw, p.quote);
    }
  }
  return out;
}
