import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { durationMs, parseDuration } from "../../../mcp-server/core/duration.js";
import { policyJsonSchema } from "../../../mcp-server/core/policy/json-schema.js";
import { parsePolicyText, validatePolicyObject } from "../../../mcp-server/core/policy/parse.js";
import { REPO } from "../../support/cli.js";
import { basicPolicy } from "../../support/policies.js";

const POLICIES = join(REPO, "policies");

describe("example policies", () => {
  const files = readdirSync(POLICIES).filter((f) => f.endsWith(".yaml"));

  it("ship the four documented examples", () => {
    expect(files.sort()).toEqual(
      expect.arrayContaining(["internal-only.yaml", "low-traffic.yaml", "payment.yaml", "search.yaml"]),
    );
  });

  it.each(files)("%s is valid", (file) => {
    const parsed = parsePolicyText(readFileSync(join(POLICIES, file), "utf8"));
    expect(parsed.ok ? [] : parsed.errors).toEqual([]);
  });

  it("policies/policy.schema.json is generated from the zod schema (run scripts/policy-schema.mjs after a change)", () => {
    const checkedIn = JSON.parse(readFileSync(join(POLICIES, "policy.schema.json"), "utf8")) as unknown;
    expect(checkedIn).toEqual(JSON.parse(JSON.stringify(policyJsonSchema())));
  });
});

describe("policy validation", () => {
  it("fills defaults and hashes the normalized policy deterministically", () => {
    const a = validatePolicyObject(basicPolicy());
    const b = validatePolicyObject({ ...basicPolicy(), alpha: 0.05, slice: "1m" });
    expect(a.ok && b.ok).toBe(true);
    if (a.ok && b.ok) {
      expect(a.policy.check_every).toBe("15m");
      expect(a.policy.max_segments).toBe(50);
      expect(a.sha256).toBe(b.sha256);
    }
  });

  it("names unknown fields with their path and line", () => {
    const text = `service: checkout
ladder:
  - { percent: 1, window: 30m }
  - { percent: 100 }
metrics:
  - name: errors
    type: ratio
    events: e
    trials: t
    bad: increase
    tolerence: { relative: 0.1 }
`;
    const r = parsePolicyText(text);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      const unknown = r.errors.find((e) => e.path === "metrics[0].tolerence");
      expect(unknown?.message).toMatch(/unknown field "tolerence": did you mean tolerance\?/);
      expect(unknown?.line).toBe(11);
      // The missing `tolerance` is the same problem: said once, as the suggestion.
      expect(r.errors).toHaveLength(1);
    }
  });

  it.each([
    [
      { ladder: [{ percent: 1, window: "30m" }, { percent: 50 }] },
      "ladder[1].percent",
      /last rung must be 100/,
    ],
    [
      { ladder: [{ percent: 5, window: "30m" }, { percent: 1, window: "1h" }, { percent: 100 }] },
      "ladder[1].percent",
      /strictly increase/,
    ],
    [{ ladder: [{ percent: 1 }, { percent: 100 }] }, "ladder[0].window", /needs an observation window/],
    [
      { ladder: [{ percent: 0.005, window: "1m" }, { percent: 100 }] },
      "ladder[0].percent",
      /multiple of 0.01/,
    ],
    [{ slice: "1 minute" }, "slice", /duration/],
    [{ alpha: 0.5 }, "alpha", /not a guardrail/],
    [
      {
        metrics: [
          {
            name: "e",
            type: "ratio",
            events: "a",
            trials: "b",
            bad: "increase",
            tolerance: { absolute: 0.01 },
          },
        ],
      },
      "metrics[0].tolerance",
      /relative tolerance only/,
    ],
    [
      {
        metrics: [
          {
            name: "e",
            type: "ratio",
            events: "a",
            trials: "b",
            bad: "increase",
            tolerance: { relative: 0.5 },
            margin: { relative: 0.2 },
          },
        ],
      },
      "metrics[0].margin",
      /at least the tolerance/,
    ],
    [
      {
        metrics: [
          {
            name: "l",
            type: "histogram",
            series: "h",
            bad: "increase",
            tolerance: { absolute: 5 },
            catastrophe: { limit: 900, min_count: 10 },
          },
        ],
      },
      "metrics[0].catastrophe.percentile",
      /percentile/,
    ],
    [
      { source: { prometheus: { url: "http://127.0.0.1:9090" }, series: { http_requests: "up" } } },
      "source.series",
      /http_errors has no query/,
    ],
    [
      { notify: [{ type: "webhook", url_env: "https://hooks.example.com/x" }] },
      "notify[0].url_env",
      /environment variable/,
    ],
  ])("rejects %j at %s", (overrides, path, message) => {
    const r = validatePolicyObject(basicPolicy(overrides));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      const hit = r.errors.find((e) => e.path === path);
      expect(hit, JSON.stringify(r.errors)).toBeDefined();
      expect(hit?.message).toMatch(message);
    }
  });

  it("reports YAML syntax errors with their line", () => {
    const r = parsePolicyText("service: x\nladder: [\n");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]?.line).toBeGreaterThan(0);
  });
});

describe("durations", () => {
  it.each([
    ["30s", 30_000],
    ["15m", 900_000],
    ["1h30m", 5_400_000],
    ["2h", 7_200_000],
  ])("%s is %d ms", (text, ms) => expect(durationMs(text)).toBe(ms));
  it.each(["", "0m", "1d", "m", "1.5h", "15 m"])("%j is not a duration", (text) =>
    expect(parseDuration(text)).toBeUndefined(),
  );
});
