import { durationMs } from "../core/duration.js";
import { InvalidInputError } from "../core/errors.js";
import { type CounterPoint, findRunningTotal, RUN_MIN } from "../core/running-total.js";
import type { DeploymentRecord } from "../ledger/deployments.js";
import type { Ledger } from "../ledger/open.js";
import { countersBetween, type SeriesRow } from "../ledger/slices.js";

/** Counter values arriving for one deployment, per (cohort, segment, series, instance). */
export class IncomingCounters {
  private readonly byKey = new Map<string, Map<number, number>>();
  private from = Number.POSITIVE_INFINITY;
  private to = Number.NEGATIVE_INFINITY;
  /** Where each key first arrived (a line number or slice index), for the error. */
  private readonly firstSeen = new Map<string, string>();

  add(rows: SeriesRow[], where?: string): void {
    for (const r of rows) {
      if (r.value.kind !== "counter") continue;
      const key = JSON.stringify([r.cohort, r.dimsKey, r.series, r.instance ?? ""]);
      let points = this.byKey.get(key);
      if (!points) {
        points = new Map();
        this.byKey.set(key, points);
        if (where) this.firstSeen.set(key, where);
      }
      points.set(r.t, r.value.value);
      this.from = Math.min(this.from, r.t);
      this.to = Math.max(this.to, r.t);
    }
  }

  /**
   * Refuses the batch when a counter, with what is stored around it, looks like a running total.
   * Run inside the transaction that writes, or before it on the same snapshot.
   */
  refuse(ledger: Ledger, d: DeploymentRecord): void {
    if (this.byKey.size === 0) return;
    const width = durationMs(d.policy.slice);
    const stored = new Map<string, Map<number, number>>();
    for (const c of countersBetween(ledger, d.id, this.from - RUN_MIN * width, this.to + RUN_MIN * width)) {
      const key = JSON.stringify([c.cohort, c.dims_key, c.series, c.instance]);
      if (!this.byKey.has(key)) continue;
      const points = stored.get(key) ?? new Map<number, number>();
      stored.set(key, points);
      points.set(c.t, c.value);
    }
    for (const [key, fresh] of this.byKey) {
      const merged = new Map(stored.get(key));
      for (const [t, v] of fresh) merged.set(t, v);
      const points: CounterPoint[] = [...merged].map(([t, v]) => ({ t, v })).sort((a, b) => a.t - b.t);
      const run = findRunningTotal(points, width, (t) => fresh.has(t));
      if (!run) continue;
      const [cohort, dims, series, instance] = JSON.parse(key) as string[];
      const where = this.firstSeen.get(key);
      throw new InvalidInputError(
        `${where ? `${where}: ` : ""}counters.${series}`,
        `looks cumulative: in cohort ${cohort}${dims ? ` segment ${dims}` : ""}${instance ? ` instance ${instance}` : ""} it rose in every slice from ${new Date(run.from).toISOString()} to ${new Date(run.to).toISOString()} (${run.first} to ${run.last}), like a running total. Slices carry increments: send what was counted within each slice (the counter's increase over the slice, e.g. PromQL increase(...[${d.policy.slice}])), not the counter's value. Nothing was stored`,
      );
    }
  }
}

/** The running-total check for one call's rows. */
export function refuseRunningTotals(ledger: Ledger, d: DeploymentRecord, rows: SeriesRow[]): void {
  const incoming = new IncomingCounters();
  incoming.add(rows);
  incoming.refuse(ledger, d);
}
