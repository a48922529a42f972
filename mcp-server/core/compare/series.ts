import type { StoredSlice } from "../deployment.js";

// Per time slice, the totals each comparison reads: for each cohort, the whole cohort (the sum of
// its segments when a series arrives with dims) and, per listed dimension, each segment on its own
// (summed over the other dimensions). Only the series the policy reads are added up.

export interface MomentTotals {
  n: number;
  sum: number;
  sumSq: number;
}

export interface CohortTotals {
  counters: Map<string, number>;
  /** Bucket counts; read-only (a single slice's own array is used as is, never changed). */
  histograms: Map<string, ArrayLike<number>>;
  moments: Map<string, MomentTotals>;
  units: number | undefined;
  /** Histogram series whose counts are a private sum (safe to add into). */
  ownedHistograms: Set<string>;
}

export function emptyTotals(): CohortTotals {
  return {
    counters: new Map(),
    histograms: new Map(),
    moments: new Map(),
    units: undefined,
    ownedHistograms: new Set(),
  };
}

export interface SliceTotals {
  canary: CohortTotals;
  control: CohortTotals;
}

/** Totals of one time slice: whole cohorts and segments (dim -> value -> cohorts). */
export interface GroupTotals {
  whole: SliceTotals;
  segments: Map<string, Map<string, SliceTotals>>;
  excludedSlices: number;
}

/** The series the policy reads, and the bounds each histogram series keeps for the deployment. */
export class SeriesRegistry {
  readonly counters = new Set<string>();
  readonly histograms = new Set<string>();
  readonly moments = new Set<string>();
  readonly dims = new Set<string>();
  private readonly bounds = new Map<string, readonly number[]>();
  /** Series whose bounds changed during the deployment (those slices are left out). */
  readonly boundsChanged = new Set<string>();

  boundsOf(series: string): readonly number[] | undefined {
    return this.bounds.get(series);
  }

  /** Accepts a histogram's bounds for a series: the first seen are kept; others are refused. */
  acceptBounds(series: string, bounds: readonly number[]): boolean {
    const known = this.bounds.get(series);
    if (!known) {
      this.bounds.set(series, [...bounds]);
      return true;
    }
    if (known.length === bounds.length && known.every((b, i) => b === bounds[i])) return true;
    this.boundsChanged.add(series);
    return false;
  }
}

function addInto(target: CohortTotals, s: StoredSlice, registry: SeriesRegistry): void {
  for (const name of registry.counters) {
    const v = s.counters[name];
    if (v !== undefined) target.counters.set(name, (target.counters.get(name) ?? 0) + v);
  }
  for (const name of registry.histograms) {
    const h = s.histograms[name];
    if (!h || !registry.acceptBounds(name, h.bounds)) continue;
    const acc = target.histograms.get(name);
    if (!acc) {
      // Copy on write: most time slices carry one slice per cohort, whose counts are used as they are.
      target.histograms.set(name, h.counts);
      continue;
    }
    let own: Float64Array;
    if (target.ownedHistograms.has(name)) own = acc as Float64Array;
    else {
      own = Float64Array.from(acc);
      target.histograms.set(name, own);
      target.ownedHistograms.add(name);
    }
    for (let i = 0; i < own.length; i++) own[i] = own[i]! + (h.counts[i] ?? 0);
  }
  for (const name of registry.moments) {
    const m = s.moments[name];
    if (!m) continue;
    const acc = target.moments.get(name);
    if (!acc) target.moments.set(name, { n: m.n, sum: m.sum, sumSq: m.sum_sq });
    else {
      acc.n += m.n;
      acc.sum += m.sum;
      acc.sumSq += m.sum_sq;
    }
  }
  if (s.units !== undefined) target.units = (target.units ?? 0) + s.units;
}

/** Adds up one time slice's (merged, canonically ordered) slices. */
export function groupTotals(slices: readonly StoredSlice[], registry: SeriesRegistry): GroupTotals {
  const whole: SliceTotals = { canary: emptyTotals(), control: emptyTotals() };
  const segments = new Map<string, Map<string, SliceTotals>>();
  let excludedSlices = 0;
  for (const s of slices) {
    if (s.cohort === "excluded") {
      excludedSlices++;
      continue;
    }
    addInto(whole[s.cohort], s, registry);
    if (!s.dims) continue;
    for (const dim of registry.dims) {
      const value = s.dims[dim];
      if (value === undefined) continue;
      let byValue = segments.get(dim);
      if (!byValue) {
        byValue = new Map();
        segments.set(dim, byValue);
      }
      let totals = byValue.get(value);
      if (!totals) {
        totals = { canary: emptyTotals(), control: emptyTotals() };
        byValue.set(value, totals);
      }
      addInto(totals[s.cohort], s, registry);
    }
  }
  return { whole, segments, excludedSlices };
}
