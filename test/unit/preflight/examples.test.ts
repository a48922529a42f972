import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parsePolicyText } from "../../../mcp-server/core/policy/parse.js";
import { preflightPolicy } from "../../../mcp-server/core/preflight/preflight.js";
import { REPO } from "../../support/cli.js";

// Each shipped example states the traffic it was sized for (`--rpm N` in its header comment), and
// at that traffic every rung proves its guardrails within its window: copying an example does not
// give a ladder that holds for hours on its first rung.
const POLICIES = join(REPO, "policies");

describe("example policies are sized for the traffic they state", () => {
  const files = readdirSync(POLICIES).filter((f) => f.endsWith(".yaml"));

  it.each(files)("%s", (file) => {
    const text = readFileSync(join(POLICIES, file), "utf8");
    const rpm = Number(/--rpm (\d+)/.exec(text)?.[1]);
    expect(rpm, "the header names the traffic: canary preflight ... --rpm N").toBeGreaterThan(0);
    const parsed = parsePolicyText(text);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    const result = preflightPolicy(parsed.policy, { requests_per_minute: rpm });
    const late = result.rungs.flatMap((r) =>
      r.checks.filter((c) => !c.provable_in_window).map((c) => `${r.percent}%: ${c.metric} ${c.note}`),
    );
    expect(late).toEqual([]);
    expect(result.ok).toBe(true);
  });
});
