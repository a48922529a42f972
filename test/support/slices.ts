import { Random } from "./random.js";

/** Healthy per-slice traffic (noisy increments, as real counters give), one line per cohort and minute. */
export function healthySliceLines(opts: {
  deploymentId?: string;
  startMs: number;
  minutes: number;
  seed?: number;
  instance?: string;
  /** Mean requests per minute of each cohort (default 200 canary, 2000 control). */
  means?: { canary: number; control: number };
  /** The canary's error rate (default 1%, as control's). */
  canaryErrorRate?: number;
}): string[] {
  const rnd = new Random(opts.seed ?? 7);
  const lines: string[] = [];
  for (let m = 0; m < opts.minutes; m++) {
    for (const [cohort, mean] of [
      ["canary", opts.means?.canary ?? 200],
      ["control", opts.means?.control ?? 2000],
    ] as const) {
      const requests = Math.max(1, Math.round(mean * (0.8 + 0.4 * rnd.uniform())));
      const rate = cohort === "canary" ? (opts.canaryErrorRate ?? 0.01) : 0.01;
      const errors = Math.min(requests, Math.floor(requests * rate * rnd.uniform() * 2));
      lines.push(
        JSON.stringify({
          ...(opts.deploymentId ? { deployment_id: opts.deploymentId } : {}),
          t: new Date(opts.startMs + m * 60_000).toISOString(),
          cohort,
          ...(opts.instance ? { instance: opts.instance } : {}),
          counters: { http_requests: requests, http_errors: errors },
        }),
      );
    }
  }
  return lines;
}
