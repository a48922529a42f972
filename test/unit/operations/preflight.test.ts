import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../mcp-server/core/errors.js";
import { preflight } from "../../../mcp-server/operations/preflight.js";
import { busyPolicy } from "./harness.js";

const noFiles = { readPolicyFile: () => "" };

describe("preflight (operation): the policy's rungs at a traffic, read-only", () => {
  it("more traffic proves the guardrail sooner", () => {
    const slow = preflight(noFiles, { policy: busyPolicy(), traffic: { requests_per_minute: 50 } });
    const busy = preflight(noFiles, { policy: busyPolicy(), traffic: { requests_per_minute: 50_000 } });
    expect(busy).not.toEqual(slow);
    expect(JSON.stringify(busy)).toMatch(/"provable_in_window":true/);
  });

  it("a baseline must name one of the policy's ratio metrics", () => {
    const ok = preflight(noFiles, {
      policy: busyPolicy(),
      traffic: { requests_per_minute: 5000, baselines: { error_rate: 0.002 } },
    });
    expect(ok).toBeDefined();
    const error = (() => {
      try {
        preflight(noFiles, {
          policy: busyPolicy(),
          traffic: { requests_per_minute: 5000, baselines: { latency: 0.1 } },
        });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).field).toBe("traffic.baselines.latency");
    expect((error as Error).message).toBe("the policy has no ratio metric named latency");
    // A baseline is a rate: naming a histogram metric is refused too, and every named one must exist.
    const withLatency = busyPolicy({
      metrics: [
        ...(busyPolicy().metrics as unknown[]),
        {
          name: "latency",
          type: "histogram",
          series: "lat",
          percentiles: [99],
          bad: "increase",
          tolerance: { relative: 0.2 },
        },
      ],
    });
    expect(() =>
      preflight(noFiles, {
        policy: withLatency,
        traffic: { requests_per_minute: 5000, baselines: { latency: 0.1 } },
      }),
    ).toThrow("the policy has no ratio metric named latency");
    expect(
      preflight(noFiles, {
        policy: withLatency,
        traffic: { requests_per_minute: 5000, baselines: { error_rate: 0.002 } },
      }),
    ).toBeDefined();
  });
});
