import { describe, expect, it } from "vitest";
import { nextCheckAfter, stepSpans } from "../../../mcp-server/core/compare/timeline.js";
import { policySchema } from "../../../mcp-server/core/policy/schema.js";

// The judge's looks are tick's schedule: every check_every from the step's start, the window's
// end, then every check_every from the window's end.

const MIN = 60_000;

describe("nextCheckAfter", () => {
  const policy = policySchema.parse({
    service: "svc",
    check_every: "15m",
    ladder: [{ percent: 1, window: "50m" }, { percent: 5, window: "30m" }, { percent: 100 }],
    metrics: [
      {
        name: "errors",
        type: "ratio",
        events: "e",
        trials: "n",
        bad: "increase",
        tolerance: { relative: 0.1 },
      },
    ],
  });

  function looks(spans: ReturnType<typeof stepSpans>, until: number): number[] {
    const out: number[] = [];
    for (let t = nextCheckAfter(spans, Number.NEGATIVE_INFINITY, policy); t <= until; ) {
      out.push(t / MIN);
      t = nextCheckAfter(spans, t, policy);
    }
    return out;
  }

  it("looks every check_every from the start, at the window's end, then every check_every from it", () => {
    const spans = stepSpans([{ step: 0, percent: 1, startedAt: 0 }], 0);
    expect(looks(spans, 100 * MIN)).toEqual([15, 30, 45, 50, 65, 80, 95]);
  });

  it("starts again from each step's start, and the step's end is its own last look", () => {
    const spans = stepSpans(
      [
        { step: 0, percent: 1, startedAt: 0 },
        { step: 1, percent: 5, startedAt: 50 * MIN },
      ],
      0,
    );
    expect(looks(spans, 100 * MIN)).toEqual([15, 30, 45, 50, 65, 80, 95]);
    const late = stepSpans(
      [
        { step: 0, percent: 1, startedAt: 0 },
        { step: 1, percent: 5, startedAt: 70 * MIN },
      ],
      0,
    );
    expect(looks(late, 110 * MIN)).toEqual([15, 30, 45, 50, 65, 85, 100]);
  });
});
