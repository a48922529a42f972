#!/usr/bin/env node
// Writes the recorded canary scenarios in fixtures/scenarios/ (NDJSON, one CONTRACT Slice a line).
// Deterministic: every scenario has its own seed, so running this again rewrites identical files.
//   node scripts/make-scenarios.mjs [output-dir]
//
// Every scenario uses the ladder 1% -> 5% -> 25% -> 50% with 30-minute windows from
// 2026-05-26T10:00:00Z, 1-minute slices, and traffic that follows that nominal schedule (the
// canary's share moves at 10:30, 11:00 and 11:30 whatever a judge would have decided); see
// fixtures/scenarios/README.md for what each one contains and the policy it goes with.

import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const OUT = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "scenarios");
const T0 = Date.parse("2026-05-26T10:00:00Z");
const LADDER = [1, 5, 25, 50];
const STEP_MINUTES = 30;
const BOUNDS = [
  5, 10, 15, 20, 25, 30, 40, 50, 60, 75, 100, 125, 150, 200, 250, 300, 400, 500, 750, 1000, 2000, 5000,
];

// --- seeded randomness -------------------------------------------------------------------------

/** mulberry32 (Tommy Ettinger): uniform in [0, 1). */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Stirling series for log(k!), exact enough for the rejection test below. */
function logFactorial(k) {
  if (k < 2) return 0;
  if (k < 20) {
    let s = 0;
    for (let i = 2; i <= k; i++) s += Math.log(i);
    return s;
  }
  return (k + 0.5) * Math.log(k) - k + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * k) - 1 / (360 * k ** 3);
}

/** Poisson: multiplication below 10, else Hoermann's PTRS (1993). */
function poisson(random, lambda) {
  if (!(lambda > 0)) return 0;
  if (lambda < 10) {
    const limit = Math.exp(-lambda);
    let k = 0;
    let p = random();
    while (p > limit) {
      k++;
      p *= random();
    }
    return k;
  }
  const slam = Math.sqrt(lambda);
  const loglam = Math.log(lambda);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const u = random() - 0.5;
    const v = random();
    const us = 0.5 - Math.abs(u);
    const k = Math.floor(((2 * a) / us + b) * u + lambda + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (
      Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b) <=
      -lambda + k * loglam - logFactorial(k)
    )
      return k;
  }
}

/** Standard normal CDF (Numerical Recipes erfc, relative error below 1.2e-7: plenty for test data). */
function normalCdf(x) {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - r / 2 : r / 2;
}

// --- latency: log-normal body with an optional slow component ----------------------------------

/** Cumulative probability at each bound (the overflow bucket takes the rest). */
function latencyCdf(shape) {
  const cdf = (b, median, sigma) => normalCdf((Math.log(b) - Math.log(median)) / sigma);
  return BOUNDS.map((b) => {
    const body = cdf(b, shape.median, shape.sigma);
    return shape.tail
      ? (1 - shape.tail.weight) * body + shape.tail.weight * cdf(b, shape.tail.median, shape.tail.sigma)
      : body;
  });
}

function bucketOf(cumulative, u) {
  let lo = 0;
  let hi = cumulative.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (u <= cumulative[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

// --- scenarios -----------------------------------------------------------------------------------

const BASE_LATENCY = { median: 50, sigma: 0.6 };

/**
 * A scenario: `rps` overall, the canary's share scaled by `shareFactor`, and per minute and
 * cohort (and endpoint) an error rate and a latency shape. Each request draws its error and its
 * latency bucket, so histogram counts add up to the requests.
 */
const SCENARIOS = [
  {
    name: "healthy",
    seed: 101,
    rps: 300,
    unitsPerRequest: 0.3,
    errorRate: () => 0.005,
    latency: () => BASE_LATENCY,
  },
  {
    name: "error-spike",
    seed: 202,
    rps: 300,
    endpoints: ["/cart", "/checkout", "/search"],
    // From 10:10 the canary's /checkout fails 5% of requests (0.5% elsewhere and in control).
    errorRate: ({ minute, cohort, endpoint }) =>
      cohort === "canary" && endpoint === "/checkout" && minute >= 10 ? 0.05 : 0.005,
    latency: () => BASE_LATENCY,
  },
  {
    name: "latency-tail",
    seed: 303,
    rps: 300,
    unitsPerRequest: 0.3,
    errorRate: () => 0.005,
    // From the 25% step (11:00) 2% of canary requests take about 400 ms: the p99 rises by about
    // half, the p50 and p90 barely move.
    latency: ({ minute, cohort }) =>
      cohort === "canary" && minute >= 60
        ? { ...BASE_LATENCY, tail: { weight: 0.02, median: 400, sigma: 0.25 } }
        : BASE_LATENCY,
  },
  {
    name: "shared-incident",
    seed: 404,
    rps: 300,
    unitsPerRequest: 0.3,
    // 10:40-10:45 and 11:20-11:25: a dependency fails for everyone (errors x10, latency x2).
    errorRate: ({ minute }) => (incident(minute) ? 0.05 : 0.005),
    latency: ({ minute }) => (incident(minute) ? { median: 100, sigma: 0.6 } : BASE_LATENCY),
  },
  {
    name: "low-traffic",
    seed: 505,
    rps: 5,
    unitsPerRequest: 0.5,
    errorRate: () => 0.005,
    latency: () => BASE_LATENCY,
  },
  {
    name: "broken-split",
    seed: 606,
    rps: 300,
    unitsPerRequest: 0.3,
    // The canary gets 60% of its configured share (0.6% at 1%, 3% at 5%, ...), as when a
    // crash-looping canary drops out of the load balancer or a router applies stale weights.
    shareFactor: 0.6,
    errorRate: () => 0.005,
    latency: () => BASE_LATENCY,
  },
];

function incident(minute) {
  return (minute >= 40 && minute < 45) || (minute >= 80 && minute < 85);
}

function* slicesOf(scenario) {
  const random = mulberry32(scenario.seed);
  const endpoints = scenario.endpoints ?? [undefined];
  for (let step = 0; step < LADDER.length; step++) {
    const percent = LADDER[step];
    for (let i = 0; i < STEP_MINUTES; i++) {
      const minute = step * STEP_MINUTES + i;
      const t = new Date(T0 + minute * 60_000).toISOString().replace(".000Z", "Z");
      const canaryShare = Math.min(1, (percent / 100) * (scenario.shareFactor ?? 1));
      for (const cohort of ["canary", "control"]) {
        for (const endpoint of endpoints) {
          const share = (cohort === "canary" ? canaryShare : 1 - canaryShare) / endpoints.length;
          const requests = poisson(random, scenario.rps * 60 * share);
          const rate = scenario.errorRate({ minute, cohort, endpoint });
          const cumulative = latencyCdf(scenario.latency({ minute, cohort, endpoint }));
          const counts = new Array(BOUNDS.length + 1).fill(0);
          let errors = 0;
          for (let r = 0; r < requests; r++) {
            if (random() < rate) errors++;
            counts[bucketOf(cumulative, random())]++;
          }
          const slice = { deployment_id: `${scenario.name}-1`, t, cohort };
          if (endpoint !== undefined) slice.dims = { endpoint };
          slice.counters = { http_requests: requests, http_errors: errors };
          slice.histograms = { http_latency_ms: { bounds: BOUNDS, counts } };
          if (scenario.unitsPerRequest !== undefined)
            slice.units = Math.round(requests * scenario.unitsPerRequest);
          yield slice;
        }
      }
    }
  }
}

mkdirSync(OUT, { recursive: true });
for (const scenario of SCENARIOS) {
  const lines = [...slicesOf(scenario)].map((s) => JSON.stringify(s));
  const file = join(OUT, `${scenario.name}.ndjson`);
  writeFileSync(file, `${lines.join("\n")}\n`);
  console.log(`${file}: ${lines.length} slices`);
}
