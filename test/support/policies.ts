/** A small valid policy for tests: one error-rate guardrail and a three-rung ladder. */
export function basicPolicy(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    service: "checkout",
    slice: "1m",
    ladder: [{ percent: 1, window: "30m" }, { percent: 5, window: "30m" }, { percent: 100 }],
    metrics: [
      {
        name: "checkout_error_rate",
        type: "ratio",
        events: "http_errors",
        trials: "http_requests",
        bad: "increase",
        tolerance: { relative: 0 },
        margin: { relative: 0.5 },
      },
    ],
    approvers: ["release-lead@example.com"],
    ...overrides,
  };
}
