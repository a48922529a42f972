import { createHash, type Hash } from "node:crypto";
import { canonicalJson } from "../canonical-json.js";
import type { JudgeContext, StoredSlice } from "../deployment.js";
import type { Histogram, Moments } from "../slice.js";

// The judge's inputs, in one canonical order, so that a report can be recomputed and checked.
//
// inputs_sha256 = SHA-256 of the canonical JSON (RFC 8785) of
//   { "slices": [ ...the slices used, sorted by (t, cohort, dims key), in the contract's Slice
//                 form with t as an ISO string ],
//     "view":   { deployment_id, state, at, ended_at?, steps: [{ step, percent, started_at }] } }
// where "used" means t at or after the first step's start, before `at` and before the end. Slices
// that share (t, cohort, dims) are added together first. The policy is hashed on its own
// (policy_sha256). "slices" sorts before "view", so the judge can hash slices as they arrive.

const COHORT_ORDER: Record<string, number> = { canary: 0, control: 1, excluded: 2 };

/** Total order of slices for processing and hashing. */
export function compareSlices(a: StoredSlice, b: StoredSlice): number {
  if (a.t !== b.t) return a.t - b.t;
  const c = (COHORT_ORDER[a.cohort] ?? 3) - (COHORT_ORDER[b.cohort] ?? 3);
  if (c !== 0) return c;
  return a.dimsKey < b.dimsKey ? -1 : a.dimsKey > b.dimsKey ? 1 : 0;
}

function sameBounds(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Adds up slices that share (t, cohort, dims): counters, histogram counts (same bounds), moments
 * and units. Input order does not matter: duplicates are combined in the order of their canonical
 * JSON, so even float sums come out the same.
 */
export function mergeSlices(slices: readonly StoredSlice[]): StoredSlice[] {
  const sorted = [...slices].sort(compareSlices);
  const out: StoredSlice[] = [];
  let i = 0;
  while (i < sorted.length) {
    let j = i + 1;
    while (j < sorted.length && compareSlices(sorted[i]!, sorted[j]!) === 0) j++;
    if (j === i + 1) out.push(sorted[i]!);
    else {
      const group = sorted
        .slice(i, j)
        .map((s) => ({ s, key: canonicalSliceJson(s) }))
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
        .map((x) => x.s);
      out.push(group.reduce(addSlices));
    }
    i = j;
  }
  return out;
}

function addSlices(a: StoredSlice, b: StoredSlice): StoredSlice {
  const counters: Record<string, number> = { ...a.counters };
  for (const [k, v] of Object.entries(b.counters)) counters[k] = (counters[k] ?? 0) + v;
  const histograms: Record<string, Histogram> = { ...a.histograms };
  for (const [k, h] of Object.entries(b.histograms)) {
    const prev = histograms[k];
    if (!prev) histograms[k] = h;
    else if (sameBounds(prev.bounds, h.bounds)) {
      histograms[k] = { bounds: prev.bounds, counts: prev.counts.map((c, i) => c + (h.counts[i] ?? 0)) };
    }
    // Different bounds for one series are refused at ingestion; should they meet here, the first wins.
  }
  const moments: Record<string, Moments> = { ...a.moments };
  for (const [k, m] of Object.entries(b.moments)) {
    const prev = moments[k];
    moments[k] = prev ? { n: prev.n + m.n, sum: prev.sum + m.sum, sum_sq: prev.sum_sq + m.sum_sq } : m;
  }
  const merged: StoredSlice = { t: a.t, cohort: a.cohort, dimsKey: a.dimsKey, counters, histograms, moments };
  if (a.dims) merged.dims = a.dims;
  if (a.units !== undefined || b.units !== undefined) merged.units = (a.units ?? 0) + (b.units ?? 0);
  return merged;
}

/** The contract's Slice form of a stored slice (t as ISO; empty records left out). */
export function canonicalSlice(s: StoredSlice): Record<string, unknown> {
  const out: Record<string, unknown> = { t: new Date(s.t).toISOString(), cohort: s.cohort };
  if (s.dims && Object.keys(s.dims).length > 0) out.dims = s.dims;
  if (Object.keys(s.counters).length > 0) out.counters = s.counters;
  if (Object.keys(s.histograms).length > 0) out.histograms = s.histograms;
  if (Object.keys(s.moments).length > 0) out.moments = s.moments;
  if (s.units !== undefined) out.units = s.units;
  return out;
}

/**
 * A series keeps its histogram bounds for the whole deployment, and printing floats is the costly
 * part of serializing a slice: the JSON of the last bounds seen per series is reused when the
 * next slice's bounds are equal element by element.
 */
export class BoundsJsonCache {
  private readonly last = new Map<string, { bounds: readonly number[]; json: string }>();

  json(series: string, bounds: readonly number[]): string {
    const hit = this.last.get(series);
    if (hit && hit.bounds.length === bounds.length && hit.bounds.every((b, i) => b === bounds[i]))
      return hit.json;
    const json = canonicalNumbers(bounds);
    this.last.set(series, { bounds: [...bounds], json });
    return json;
  }
}

function sortedKeys(record: Record<string, unknown>): string[] {
  return Object.keys(record).sort();
}

function canonicalNumber(v: number): string {
  if (!Number.isFinite(v)) throw new Error("canonical JSON cannot hold NaN or Infinity");
  return Object.is(v, -0) ? "0" : String(v);
}

function canonicalNumbers(values: readonly number[]): string {
  for (const v of values)
    if (!Number.isFinite(v)) throw new Error("canonical JSON cannot hold NaN or Infinity");
  // JSON.stringify prints finite numbers exactly as RFC 8785 does (ECMAScript Number::toString, -0 as 0).
  return JSON.stringify(values);
}

/**
 * canonicalJson(canonicalSlice(s)), written directly for the slice's known shape: the hash runs
 * over every slice at every report, and the generic serializer is the slow part of a compare.
 * Keys in UTF-16 order: cohort, counters, dims, histograms, moments, t, units.
 */
export function canonicalSliceJson(s: StoredSlice, boundsCache?: BoundsJsonCache): string {
  let out = `{"cohort":${JSON.stringify(s.cohort)}`;
  const counters = sortedKeys(s.counters);
  if (counters.length > 0) {
    out += `,"counters":{${counters.map((k) => `${JSON.stringify(k)}:${canonicalNumber(s.counters[k]!)}`).join(",")}}`;
  }
  if (s.dims) {
    const dims = sortedKeys(s.dims);
    if (dims.length > 0)
      out += `,"dims":{${dims.map((k) => `${JSON.stringify(k)}:${JSON.stringify(s.dims![k])}`).join(",")}}`;
  }
  const histograms = sortedKeys(s.histograms);
  if (histograms.length > 0) {
    out += `,"histograms":{${histograms
      .map((k) => {
        const h = s.histograms[k]!;
        const bounds = boundsCache ? boundsCache.json(k, h.bounds) : canonicalNumbers(h.bounds);
        return `${JSON.stringify(k)}:{"bounds":${bounds},"counts":${canonicalNumbers(h.counts)}}`;
      })
      .join(",")}}`;
  }
  const moments = sortedKeys(s.moments);
  if (moments.length > 0) {
    out += `,"moments":{${moments
      .map((k) => {
        const m = s.moments[k]!;
        return `${JSON.stringify(k)}:{"n":${canonicalNumber(m.n)},"sum":${canonicalNumber(m.sum)},"sum_sq":${canonicalNumber(m.sum_sq)}}`;
      })
      .join(",")}}`;
  }
  out += `,"t":${JSON.stringify(new Date(s.t).toISOString())}`;
  if (s.units !== undefined) out += `,"units":${canonicalNumber(s.units)}`;
  return `${out}}`;
}

/** The judgment's point of view, as hashed. */
export function inputsView(ctx: Omit<JudgeContext, "policy">, effectiveAt: number): Record<string, unknown> {
  const view: Record<string, unknown> = {
    deployment_id: ctx.deploymentId,
    state: ctx.state,
    at: new Date(ctx.at).toISOString(),
    steps: ctx.steps
      .filter((s) => s.startedAt <= effectiveAt)
      .map((s) => ({ step: s.step, percent: s.percent, started_at: new Date(s.startedAt).toISOString() })),
  };
  if (ctx.endedAt !== undefined) view.ended_at = new Date(ctx.endedAt).toISOString();
  return view;
}

/** Incremental SHA-256 over `{"slices":[...],"view":{...}}`: slices are appended in canonical order. */
export class InputsHasher {
  private readonly hash: Hash = createHash("sha256");
  private readonly bounds = new BoundsJsonCache();
  private count = 0;

  constructor() {
    this.hash.update('{"slices":[', "utf8");
  }

  addSlice(s: StoredSlice): void {
    this.hash.update((this.count++ === 0 ? "" : ",") + canonicalSliceJson(s, this.bounds), "utf8");
  }

  digest(view: Record<string, unknown>): string {
    const h = this.hash.copy();
    h.update(`],"view":${canonicalJson(view)}}`, "utf8");
    return h.digest("hex");
  }
}

/** inputs_sha256 of a context and the slices it used (already merged, sorted and filtered). */
export function inputsSha256(
  ctx: Omit<JudgeContext, "policy">,
  used: readonly StoredSlice[],
  effectiveAt: number,
): string {
  const h = new InputsHasher();
  for (const s of used) h.addSlice(s);
  return h.digest(inputsView(ctx, effectiveAt));
}
