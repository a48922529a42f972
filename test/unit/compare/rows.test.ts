import { describe, expect, it } from "vitest";
import { compareMetrics, reportToMarkdown } from "../../../mcp-server/core/compare/index.js";
import { compareRows } from "../../../mcp-server/core/compare/sort.js";
import type { JudgeContext, StepStart, StoredSlice } from "../../../mcp-server/core/deployment.js";
import { type PolicyInput, policySchema } from "../../../mcp-server/core/policy/schema.js";
import type { Report, Row } from "../../../mcp-server/core/report.js";
import { dimsKey } from "../../../mcp-server/core/slice.js";
import { MINUTE, simulateDeployment, T0 } from "../../support/canary-sim.js";
import { Random } from "../../support/random.js";

const LADDER: PolicyInput["ladder"] = [
  { percent: 5, window: "30m" },
  { percent: 25, window: "30m" },
  { percent: 100 },
];

function policyWith(metrics: PolicyInput["metrics"], extra: Partial<PolicyInput> = {}) {
  return policySchema.parse({ service: "svc", ladder: LADDER, metrics, ...extra });
}

function slice(minute: number, cohort: StoredSlice["cohort"], parts: Partial<StoredSlice> = {}): StoredSlice {
  const s: StoredSlice = {
    t: T0 + minute * MINUTE,
    cohort,
    dimsKey: dimsKey(parts.dims),
    counters: {},
    histograms: {},
    moments: {},
    ...parts,
  };
  return s;
}

function judge(
  policy: ReturnType<typeof policyWith>,
  slices: StoredSlice[],
  atMinute: number,
  steps?: StepStart[],
  extra: Partial<JudgeContext> = {},
): Report {
  return compareMetrics(
    {
      deploymentId: "d",
      policy,
      steps: steps ?? [{ step: 0, percent: 5, startedAt: T0 }],
      state: "canary",
      at: T0 + atMinute * MINUTE,
      ...extra,
    },
    slices,
  );
}

function find(report: Report, statistic: string, segment?: Record<string, string>): Row {
  const r = report.rows.find((x) => x.statistic === statistic && dimsKey(x.segment) === dimsKey(segment));
  if (!r) throw new Error(`no row ${statistic} ${JSON.stringify(segment)}`);
  return r;
}

/** Moments of n normal samples (mean mu, sd), as a slice's `moments` entry carries them. */
function normalMoments(rng: Random, n: number, mu: number, sd: number) {
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < n; i++) {
    const x = mu + sd * rng.normal();
    sum += x;
    sumSq += x * x;
  }
  return { n, sum, sum_sq: sumSq };
}

const ERRORS: PolicyInput["metrics"][number] = {
  name: "errors",
  type: "ratio",
  events: "errors",
  trials: "requests",
  bad: "increase",
  tolerance: { relative: 0 },
  margin: { relative: 0.5 },
};

/** Steady traffic: per minute, canary 5% and control 95% of `rps * 60` requests at the given error rates. */
function traffic(
  minutes: number,
  rps: number,
  canaryRate: number,
  controlRate: number,
  seed = 1,
  from = 0,
): StoredSlice[] {
  const rng = new Random(seed);
  const out: StoredSlice[] = [];
  for (let m = from; m < from + minutes; m++) {
    for (const [cohort, share, rate] of [
      ["canary", 0.05, canaryRate],
      ["control", 0.95, controlRate],
    ] as const) {
      const requests = rng.poisson(rps * 60 * share);
      out.push(slice(m, cohort, { counters: { requests, errors: rng.binomial(requests, rate) } }));
    }
  }
  return out;
}

describe("statuses", () => {
  it("no_data when a cohort has no slices of the series in the window, and never a pass", () => {
    const policy = policyWith([ERRORS]);
    const onlyControl = traffic(10, 100, 0.01, 0.01).filter((s) => s.cohort === "control");
    const r = find(judge(policy, onlyControl, 10), "rate");
    expect(r.status).toBe("no_data");
    expect(r.margin_proven).toBe(false);
    expect(r.note).toMatch(/canary/);
  });

  it("insufficient_data with a sample estimate at low traffic; no_difference once the margin is proven", () => {
    const policy = policyWith([ERRORS]);
    const low = find(judge(policy, traffic(10, 20, 0.005, 0.005), 10), "rate");
    expect(low.status).toBe("insufficient_data");
    expect(low.samples_needed).toBeGreaterThan(0);
    const high = find(judge(policy, traffic(30, 2000, 0.005, 0.005), 30), "rate");
    expect(high.status).toBe("no_difference");
    expect(high.margin_proven).toBe(true);
    expect(high.samples_needed).toBe(0);
    expect(high.ci_low).not.toBeNull();
    expect(high.ci_high!).toBeLessThan(0.5);
  });

  it("regression for good once proven, even when later data look fine", () => {
    const policy = policyWith([ERRORS]);
    const bad = traffic(15, 1000, 0.05, 0.005, 2);
    const good = traffic(15, 1000, 0.005, 0.005, 3, 15);
    const r = find(judge(policy, [...bad, ...good], 30), "rate");
    expect(r.status).toBe("regression");
    expect(r.evidence).toBeGreaterThanOrEqual(r.threshold);
    expect(r.threshold).toBeCloseTo(20, 9);
  });

  it("improvement when the canary is better beyond the tolerance", () => {
    const policy = policyWith([ERRORS]);
    const r = find(judge(policy, traffic(30, 2000, 0.002, 0.01, 4), 30), "rate");
    expect(r.status).toBe("improvement");
    expect(r.improvement_evidence!).toBeGreaterThanOrEqual(r.threshold);
  });

  it("an improvement proven on an earlier step still says what the current step needs for its margin", () => {
    const policy = policyWith([ERRORS]);
    const better = traffic(30, 2000, 0.002, 0.01, 5);
    const since = traffic(2, 2000, 0.01, 0.01, 6, 30);
    const steps: StepStart[] = [
      { step: 0, percent: 5, startedAt: T0 },
      { step: 1, percent: 25, startedAt: T0 + 30 * MINUTE },
    ];
    const r = find(judge(policy, [...better, ...since], 32, steps), "rate");
    expect(r.status).toBe("improvement");
    expect(r.margin_proven).toBe(false);
    expect(r.samples_needed).toBeGreaterThan(0);
  });

  it("tests the complement for bad: decrease", () => {
    const policy = policyWith([
      { ...ERRORS, name: "success", events: "ok", trials: "requests", bad: "decrease" },
    ]);
    const slices = traffic(20, 1000, 0.03, 0.005, 5).map((s) => ({
      ...s,
      counters: { requests: s.counters.requests!, ok: s.counters.requests! - s.counters.errors! },
    }));
    const r = find(judge(policy, slices, 20), "complement_rate");
    expect(r.status).toBe("regression");
    expect(r.canary.value!).toBeGreaterThan(0.02);
    expect(r.note).toMatch(/1 - ok\/requests/);
  });
});

describe("window selection", () => {
  it("leaves the warm-up out of every test and says so", () => {
    const policy = policyWith([ERRORS], { warmup: "5m" });
    // A terrible canary during the warm-up only.
    const slices = [...traffic(5, 1000, 0.5, 0.005, 6), ...traffic(10, 1000, 0.005, 0.005, 7, 5)];
    const during = judge(policy, slices, 4);
    expect(during.notes?.join(" ")).toMatch(/warm-up/);
    expect(find(during, "rate").status).toBe("no_data");
    const after = find(judge(policy, slices, 15), "rate");
    expect(after.status).not.toBe("regression");
    expect(after.canary.count).toBeGreaterThan(0);
  });

  it("counts excluded slices, shows them, and never mixes them into control", () => {
    const policy = policyWith([ERRORS]);
    const base = traffic(10, 500, 0.005, 0.005, 8);
    const excluded = base
      .filter((s) => s.cohort === "control")
      .map((s) => ({ ...s, cohort: "excluded" as const, counters: { requests: 5000, errors: 4000 } }));
    const a = judge(policy, base, 10);
    const b = judge(policy, [...base, ...excluded], 10);
    expect(find(b, "rate").control).toEqual(find(a, "rate").control);
    expect(b.excluded?.slices).toBe(10);
    expect(a.excluded).toBeUndefined();
  });

  it("looks no further than the end, and reports a finished deployment's last canary step", () => {
    const policy = policyWith([ERRORS]);
    const steps: StepStart[] = [
      { step: 0, percent: 5, startedAt: T0 },
      { step: 2, percent: 100, startedAt: T0 + 20 * MINUTE },
    ];
    const slices = [...traffic(20, 500, 0.005, 0.005, 9), ...traffic(10, 500, 0.5, 0.005, 10, 20)];
    const report = judge(policy, slices, 40, steps, { state: "completed", endedAt: T0 + 20 * MINUTE });
    expect(report.step).toBe(0);
    expect(report.window.to).toBe(new Date(T0 + 20 * MINUTE).toISOString());
    expect(find(report, "rate").status).not.toBe("regression");
  });
});

describe("other metric kinds", () => {
  it("compares throughput per unit of traffic share", () => {
    const policy = policyWith([
      { name: "orders", type: "throughput", series: "orders", bad: "decrease", tolerance: { relative: 0.2 } },
    ]);
    const rng = new Random(12);
    const slices: StoredSlice[] = [];
    for (let m = 0; m < 30; m++) {
      slices.push(slice(m, "canary", { counters: { orders: rng.poisson(0.05 * 600) } }));
      slices.push(slice(m, "control", { counters: { orders: rng.poisson(0.95 * 600) } }));
    }
    const r = find(judge(policy, slices, 30), "throughput");
    expect(Math.abs(r.rel_diff!)).toBeLessThan(0.1);
    // Per second per whole of traffic: count / share / seconds (about 600 a minute overall = 10 a second).
    expect(r.canary.value!).toBeCloseTo(r.canary.count / 0.05 / 1800, 9);
    expect(Math.abs(r.canary.value! - 10)).toBeLessThan(1.5);
    expect(r.status).toBe("no_difference");

    const dropped = slices.map((s) =>
      s.cohort === "canary" ? { ...s, counters: { orders: Math.round(s.counters.orders! / 2) } } : s,
    );
    expect(find(judge(policy, dropped, 30), "throughput").status).toBe("regression");
  });

  it("judges means from moments", () => {
    const policy = policyWith([
      { name: "payload", type: "mean", series: "bytes", bad: "increase", tolerance: { absolute: 10 } },
    ]);
    const rng = new Random(13);
    const moments = (n: number, mu: number) => normalMoments(rng, n, mu, 20);
    const make = (shift: number) => {
      const out: StoredSlice[] = [];
      for (let m = 0; m < 30; m++) {
        out.push(slice(m, "canary", { moments: { bytes: moments(50, 500 + shift) } }));
        out.push(slice(m, "control", { moments: { bytes: moments(950, 500) } }));
      }
      return out;
    };
    const same = find(judge(policy, make(0), 30), "mean");
    expect(same.status).toBe("no_difference");
    expect(same.ci_low!).toBeLessThan(0);
    expect(same.ci_high!).toBeGreaterThan(0);
    const worse = find(judge(policy, make(30), 30), "mean");
    expect(worse.status).toBe("regression");
  });

  it("reports a mean row's estimates, margin, interval and samples needed as the data say", () => {
    const rng = new Random(29);
    const moments = (n: number, mu: number, sd: number) => normalMoments(rng, n, mu, sd);
    const make = (minutes: number, canaryMu: number, perMinute = 50, sd = 20) => {
      const out: StoredSlice[] = [];
      for (let m = 0; m < minutes; m++) {
        out.push(slice(m, "canary", { moments: { bytes: moments(perMinute, canaryMu, sd) } }));
        out.push(slice(m, "control", { moments: { bytes: moments(perMinute * 19, 500, sd) } }));
      }
      return out;
    };
    const mean = (metric: Record<string, unknown>) =>
      policyWith([
        { name: "payload", type: "mean", series: "bytes", ...metric } as PolicyInput["metrics"][number],
      ]);

    // Healthy, absolute tolerance and margin: estimates are the cohorts' means, the margin is
    // proven, nothing more is needed, and the interval (absolute units) holds the true 0.
    const healthy = find(
      judge(
        mean({ bad: "increase", tolerance: { absolute: 10 }, margin: { absolute: 10 } }),
        make(30, 500),
        30,
      ),
      "mean",
    );
    expect(healthy).toMatchObject({ status: "no_difference", margin_proven: true, samples_needed: 0 });
    expect(healthy.interval_scale).toBe("absolute");
    expect(healthy.tolerance).toBe(10);
    expect(healthy.margin).toBe(10);
    expect(healthy.canary.count).toBe(30 * 50);
    expect(healthy.control.count).toBe(30 * 50 * 19);
    expect(healthy.canary.value!).toBeCloseTo(500, 0);
    expect(healthy.control.value!).toBeCloseTo(500, 0);
    expect(healthy.abs_diff!).toBeCloseTo(healthy.canary.value! - healthy.control.value!, 9);
    expect(healthy.rel_diff!).toBeCloseTo(healthy.abs_diff! / healthy.control.value!, 9);
    expect(healthy.ci_low!).toBeLessThan(0);
    expect(healthy.ci_high!).toBeGreaterThan(0);
    expect(healthy.ci_high! - healthy.ci_low!).toBeLessThan(10);
    expect(healthy.margin_evidence).toBeGreaterThanOrEqual(healthy.threshold);
    expect(healthy.evidence).toBeLessThan(healthy.threshold);

    // Too few minutes to prove a tight margin: insufficient, with a positive sample estimate.
    const early = find(
      judge(
        mean({ bad: "increase", tolerance: { absolute: 2 }, margin: { absolute: 2 } }),
        make(2, 500, 5),
        2,
      ),
      "mean",
    );
    expect(early.status).toBe("insufficient_data");
    expect(early.margin_proven).toBe(false);
    expect(early.samples_needed!).toBeGreaterThan(0);
    expect(early.note).toBeTruthy();

    // A relative tolerance is tested on the relative scale: +10% allowed, +30% is a regression.
    const relative = mean({ bad: "increase", tolerance: { relative: 0.1 } });
    const worse = find(judge(relative, make(30, 650), 30), "mean");
    expect(worse.status).toBe("regression");
    expect(worse.interval_scale).toBe("relative");
    expect(worse.tolerance).toBeCloseTo(0.1, 9);
    expect(worse.evidence).toBeGreaterThanOrEqual(worse.threshold);
    expect(worse.ci_low!).toBeGreaterThan(0.1);
    expect(worse.rel_diff!).toBeCloseTo(0.3, 1);
    expect(worse.samples_needed ?? null).toBeNull();
    expect(find(judge(relative, make(30, 500), 30), "mean").status).not.toBe("regression");

    // bad: decrease flips the sides: a drop is the regression, a rise an improvement.
    const decrease = mean({ bad: "decrease", tolerance: { absolute: 10 } });
    expect(find(judge(decrease, make(30, 450), 30), "mean").status).toBe("regression");
    const better = find(judge(decrease, make(30, 550), 30), "mean");
    expect(better.status).toBe("improvement");
    expect(better.improvement_evidence!).toBeGreaterThanOrEqual(better.threshold);

    // One cohort without samples: no data, never a pass.
    const canaryOnly = make(30, 500).filter((x) => x.cohort === "canary");
    const none = find(judge(mean({ bad: "increase", tolerance: { absolute: 10 } }), canaryOnly, 30), "mean");
    expect(none.status).toBe("no_data");
    expect(none.margin_proven).toBe(false);
  });

  it("judges percentiles by exceedance and reports the tolerance actually tested", () => {
    const policy = policyWith([
      {
        name: "latency",
        type: "histogram",
        series: "http_latency_ms",
        percentiles: [50, 99],
        bad: "increase",
        tolerance: { absolute: 12 },
      },
    ]);
    const sim = simulateDeployment({
      seed: 14,
      ladder: [{ percent: 5, minutes: 40 }],
      rps: 200,
      errorRate: () => ({ canary: 0, control: 0 }),
      latency: { shape: () => ({ canary: { median: 45, sigma: 0.6 }, control: { median: 45, sigma: 0.6 } }) },
    });
    const report = judge(policy, sim.slices, 40);
    const p50 = find(report, "p50");
    expect(p50.status).toBe("no_difference");
    // The control's p50 sits in (40, 50]: c = 50, and 50 + 12 moves up to the bound 75.
    expect(p50.effective_tolerance).toBe(25);
    expect(p50.interval_scale).toBe("absolute");
    expect(p50.canary.ci_low!).toBeLessThanOrEqual(p50.canary.value!);
  });
});

describe("segments", () => {
  const policy = policyWith([{ ...ERRORS, dims: ["endpoint"] }], { max_segments: 3 });
  function segmented(badEndpoint: string | null): StoredSlice[] {
    const rng = new Random(15);
    const out: StoredSlice[] = [];
    for (let m = 0; m < 30; m++) {
      for (const endpoint of ["/a", "/b", "/c", "/d"]) {
        for (const [cohort, share] of [
          ["canary", 0.05],
          ["control", 0.95],
        ] as const) {
          const requests = rng.poisson(500 * 60 * share);
          const rate = cohort === "canary" && endpoint === badEndpoint ? 0.05 : 0.01;
          out.push(
            slice(m, cohort, {
              dims: { endpoint },
              counters: { requests, errors: rng.binomial(requests, rate) },
            }),
          );
        }
      }
    }
    return out;
  }

  it("judges each segment on its own with the budget split over max_segments, and names the ones left out", () => {
    const report = judge(policy, segmented("/b"), 30);
    const b = find(report, "rate", { endpoint: "/b" });
    expect(b.status).toBe("regression");
    expect(b.threshold).toBeCloseTo(20 * 2 * 3, 9); // half of alpha for segments, over 1 dim x 3 segments
    expect(find(report, "rate").threshold).toBeCloseTo(40, 9);
    // Worst first: regressions lead (the whole cohort is worse too, and sorts before its segments).
    expect(report.rows.slice(0, 2).map((r) => dimsKey(r.segment))).toEqual(["", dimsKey({ endpoint: "/b" })]);
    expect(report.notes?.join(" ")).toMatch(/\/d/);
    expect(report.rows.some((r) => r.segment?.endpoint === "/d")).toBe(false);
  });

  it("adds descriptive, shrunk segment rate percentiles that are never judged", () => {
    const report = judge(policy, segmented(null), 30);
    const rows = report.rows.filter((r) => r.statistic.startsWith("segment_error_rate_"));
    expect(rows.map((r) => r.statistic).sort()).toEqual([
      "segment_error_rate_p50",
      "segment_error_rate_p90",
      "segment_error_rate_p99",
      "segment_error_rate_p99.9",
    ]);
    for (const r of rows) {
      expect(r.judged).toBe(false);
      expect(r.segment).toEqual({ endpoint: "*" });
      expect(Math.abs(r.canary.value! - 0.01)).toBeLessThan(0.003);
    }
  });
});

describe("split check", () => {
  it("flags a canary getting twice its share, on units when slices carry them", () => {
    const policy = policyWith([ERRORS]);
    const sim = simulateDeployment({
      seed: 16,
      ladder: [{ percent: 5, minutes: 20 }],
      rps: 100,
      errorRate: () => ({ canary: 0.005, control: 0.005 }),
      shareFactor: 2,
      unitsPerRequest: 0.5,
    });
    const slices = sim.slices.map((s) => ({
      ...s,
      counters: { requests: s.counters.http_requests!, errors: s.counters.http_errors! },
    }));
    const report = judge(policy, slices, 20);
    expect(report.srm.basis).toBe("units");
    expect(report.srm.mismatch).toBe(true);
    expect(report.srm.observed_share!).toBeGreaterThan(0.08);
    expect(report.srm.expected_share).toBe(0.05);
    const healthy = judge(policy, traffic(20, 100, 0.005, 0.005, 17), 20);
    expect(healthy.srm.mismatch).toBe(false);
    expect(healthy.srm.basis).toBe("requests");
  });
});

describe("order and presentation", () => {
  it("sorts worst first, then by metric, statistic and segment", () => {
    const base = find(judge(policyWith([ERRORS]), traffic(5, 100, 0.01, 0.01), 5), "rate");
    const rows: Row[] = [
      { ...base, metric: "b", status: "no_difference" },
      { ...base, metric: "b", status: "regression" },
      { ...base, metric: "a", status: "inconclusive" },
      { ...base, metric: "a", status: "regression", segment: { endpoint: "/x" } },
      { ...base, metric: "a", status: "regression" },
      { ...base, metric: "c", status: "improvement" },
      { ...base, metric: "c", status: "no_data" },
      { ...base, metric: "c", status: "insufficient_data" },
    ];
    const order = [...rows].sort(compareRows).map((r) => `${r.status}:${r.metric}:${dimsKey(r.segment)}`);
    expect(order).toEqual([
      "regression:a:",
      'regression:a:[["endpoint","/x"]]',
      "regression:b:",
      "improvement:c:",
      "inconclusive:a:",
      "insufficient_data:c:",
      "no_data:c:",
      "no_difference:b:",
    ]);
  });

  it("renders the same rows in the same order for people", () => {
    const report = judge(
      policyWith([ERRORS, { ...ERRORS, name: "errors2" }]),
      traffic(20, 1000, 0.02, 0.005, 18),
      20,
    );
    const md = reportToMarkdown(report);
    const tableRows = md.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| Status"));
    expect(tableRows).toHaveLength(report.rows.length);
    report.rows.forEach((r, i) => {
      expect(tableRows[i]).toContain(`| ${r.metric} |`);
    });
    expect(md).toMatch(/\d+x \/ needs 20\.0x/);
    expect(md).toMatch(/Split: expected 5%/);
    expect(md).toContain(report.inputs_sha256);
  });
});
