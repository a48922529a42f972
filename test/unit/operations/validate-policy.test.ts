import { describe, expect, it } from "vitest";
import { validatePolicy } from "../../../mcp-server/operations/validate-policy.js";
import { busyPolicy } from "./harness.js";

const noFiles = { readPolicyFile: () => "" };

describe("validate_policy", () => {
  it("a valid policy comes back normalised with its hash and its warnings", () => {
    const policy = busyPolicy();
    (policy.metrics as { tolerance: unknown }[])[0]!.tolerance = { relative: 10 };
    (policy.metrics as { margin: unknown }[])[0]!.margin = { relative: 10 };
    const out = validatePolicy(noFiles, { policy });
    expect(out.valid).toBe(true);
    expect(out.errors).toEqual([]);
    expect(out.policy_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(out.normalized).toMatchObject({ service: "checkout", alpha: 0.05, auto_promote: true });
    expect(out.warnings.map((w) => w.path)).toEqual([
      "metrics[0].tolerance.relative",
      "metrics[0].margin.relative",
    ]);
  });

  it("an invalid policy lists every error and nothing else", () => {
    const out = validatePolicy(noFiles, {
      policy: { ...busyPolicy(), alpha: 0.5, ladder: [{ percent: 10 }, { percent: 90 }] },
    });
    expect(out.valid).toBe(false);
    expect(out.warnings).toEqual([]);
    expect(out.policy_sha256).toBeUndefined();
    expect(out.normalized).toBeUndefined();
    expect(out.errors.map((e) => e.path).sort()).toEqual(["alpha", "ladder[0].window", "ladder[1].percent"]);
  });
});
