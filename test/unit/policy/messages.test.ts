import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { editDistance, nearest } from "../../../mcp-server/core/did-you-mean.js";
import { knownFields } from "../../../mcp-server/core/policy/humanize.js";
import { parsePolicyText, validatePolicyObject } from "../../../mcp-server/core/policy/parse.js";
import { policyWarnings, snapped } from "../../../mcp-server/core/policy/warnings.js";
import { REPO } from "../../support/cli.js";
import { basicPolicy } from "../../support/policies.js";

// What a person sees for the mistakes people make in policies: one sentence per problem that
// says what to write, never zod's "expected object, received number".

const BASE = `service: checkout
ladder: [{ percent: 1, window: 20m }, { percent: 100 }]
metrics:
  - { name: errors, type: ratio, events: e, trials: t, bad: increase, tolerance: { relative: 0.1 } }
`;

function errorsOf(text: string) {
  const r = parsePolicyText(text);
  if (r.ok) throw new Error("expected the policy to be invalid");
  return r.errors;
}

describe("policy error messages", () => {
  it.each([
    [
      "a bare number as tolerance",
      BASE.replace("tolerance: { relative: 0.1 }", "tolerance: 0.1"),
      "metrics[0].tolerance",
      /expected an object such as \{ relative: 0\.1 \}.*received number 0\.1/,
    ],
    [
      "a missing service",
      BASE.replace("service: checkout\n", ""),
      "service",
      /missing field service: add it/,
    ],
    [
      "a duration without its unit",
      `${BASE}check_every: 5\n`,
      "check_every",
      /a duration with its unit.*received number 5/,
    ],
    ["an empty file", "", "(policy)", /the policy is empty: it needs at least service, ladder and metrics/],
    ["a misspelt top-level field", `${BASE}aplha: 0.1\n`, "aplha", /did you mean alpha\?/],
    [
      "a misspelt metric type",
      BASE.replace("type: ratio", "type: histogrm"),
      "metrics[0].type",
      /unknown metric type "histogrm": did you mean histogram\?/,
    ],
    [
      "a misspelt enum value",
      BASE.replace("bad: increase", "bad: increse"),
      "metrics[0].bad",
      /"increse" is not allowed here: did you mean increase\?/,
    ],
    [
      "a slice longer than a window",
      `${BASE}slice: 30m\n`,
      "ladder[0].window",
      /the 20m window is shorter than one slice \(slice: 30m\)/,
    ],
  ])("%s", (_, text, path, message) => {
    const errors = errorsOf(text);
    expect(errors, JSON.stringify(errors)).toHaveLength(1);
    expect(errors[0]?.path).toBe(path);
    expect(errors[0]?.message).toMatch(message);
    expect(errors[0]?.message).not.toMatch(/Invalid input|received (null|undefined)/);
  });

  it("reports a bad duration once, quoting it", () => {
    const errors = errorsOf(`${BASE}slice: 5 minutes\n`);
    expect(errors).toEqual([
      {
        path: "slice",
        line: 5,
        message: expect.stringMatching(/received "5 minutes"$/) as unknown as string,
      },
    ]);
  });

  it("never echoes a huge value in full", () => {
    const errors = errorsOf(BASE.replace("type: ratio", `type: ${"x".repeat(4000)}`));
    const text = errors.map((e) => e.message).join(" ");
    expect(text.length).toBeLessThan(300);
    expect(text).toMatch(/\(4002 characters\)/);
  });
});

describe("did you mean", () => {
  it("counts a swap of neighbours as one edit", () => {
    expect(editDistance("tolerence", "tolerance")).toBe(1);
    expect(editDistance("aplha", "alpha")).toBe(1);
    expect(editDistance("", "abc")).toBe(3);
  });

  it("suggests only near names", () => {
    expect(nearest("windwo", ["window", "percent"])).toBe("window");
    expect(nearest("zzz", ["window", "percent"])).toBeUndefined();
  });
});

describe("policy warnings", () => {
  it("flags a relative threshold above 1 with the percent it means", () => {
    const r = validatePolicyObject(
      basicPolicy({
        metrics: [
          {
            name: "e",
            type: "ratio",
            events: "a",
            trials: "b",
            bad: "increase",
            tolerance: { relative: 10 },
          },
        ],
      }),
    );
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const w = policyWarnings(r.policy);
    expect(w).toEqual([
      { path: "metrics[0].tolerance.relative", message: expect.stringMatching(/\+1,000%.*write 0\.1$/) },
    ]);
  });

  it("says what a histogram tolerance becomes on bucket bounds", () => {
    expect(snapped(0.1, 2)).toBeCloseTo(1);
    expect(snapped(0.1, 1.25)).toBeCloseTo(0.25);
    expect(snapped(0.5, 1.25)).toBeCloseTo(1.25 ** 2 - 1);
    expect(snapped(0.25, 1.25)).toBeCloseTo(0.25);
    const r = validatePolicyObject(
      basicPolicy({
        metrics: [
          { name: "latency", type: "histogram", series: "h", bad: "increase", tolerance: { relative: 0.1 } },
        ],
      }),
    );
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(policyWarnings(r.policy).map((w) => w.message)).toEqual([
      expect.stringMatching(
        /\+10% is tested as \+100% when the bounds double, as \+25% when they are 25% apart/,
      ),
    ]);
  });

  it("stays quiet on an ordinary policy", () => {
    const r = validatePolicyObject(basicPolicy());
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(policyWarnings(r.policy)).toEqual([]);
  });
});

describe("docs/policy.md", () => {
  it("describes every field of the schema", () => {
    const doc = readFileSync(join(REPO, "docs/policy.md"), "utf8");
    const paths: PropertyKey[][] = [
      [],
      ["ladder", 0],
      ["metrics", 0],
      ["metrics", 0, "tolerance"],
      ["metrics", 0, "catastrophe"],
      ["notify", 0],
      ["max_hold"],
      ["population"],
    ];
    const fields = paths.flatMap((p) => knownFields(p));
    expect(fields.length).toBeGreaterThan(40);
    expect(fields.filter((f) => !doc.includes(`\`${f}\``))).toEqual([]);
  });
});
