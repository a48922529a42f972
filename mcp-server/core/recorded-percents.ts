import { splitSeries } from "./compare/srm.js";
import type { Policy } from "./policy/schema.js";
import type { Slice } from "./slice.js";

// The percents a recording was made at, read from the recording itself: the canary's share of the
// traffic each slice time shows (what the split check counts: units, else the trials of the
// first ratio metric, and so on), cut into levels where the share moves for good.

/** One level of the recording: from this time on, the canary carried about this percent. */
export interface RecordedLevel {
  from: number;
  percent: number;
  /** The rung of the policy's ladder it matches, if any (within 30% of its percent). */
  rung?: number;
}

function traffic(policy: Policy, s: Slice): number | undefined {
  if (s.units !== undefined) return s.units;
  for (const f of splitSeries(policy)) {
    if (f.kind === "counter" && s.counters?.[f.name] !== undefined) return s.counters[f.name];
    if (f.kind === "histogram" && s.histograms?.[f.name])
      return s.histograms[f.name]!.counts.reduce((a, b) => a + b, 0);
    if (f.kind === "moments" && s.moments?.[f.name]) return s.moments[f.name]!.n;
  }
  return undefined;
}

/** Canary share per slice time (both cohorts summed over segments and instances), oldest first. */
function shares(policy: Policy, slices: Slice[]): { t: number; canary: number; total: number }[] {
  const byT = new Map<number, { canary: number; control: number }>();
  for (const s of slices) {
    if (s.cohort === "excluded") continue;
    const n = traffic(policy, s);
    if (n === undefined) continue;
    const t = Date.parse(s.t);
    const at = byT.get(t) ?? { canary: 0, control: 0 };
    at[s.cohort] += n;
    byT.set(t, at);
  }
  return [...byT]
    .filter(([, c]) => c.canary + c.control > 0)
    .sort((a, b) => a[0] - b[0])
    .map(([t, c]) => ({ t, canary: c.canary, total: c.canary + c.control }));
}

/** How far one slice's share may stray from its level's before it counts as a move. */
function strays(level: { canary: number; total: number }, p: { canary: number; total: number }): number {
  const share = level.canary / level.total;
  const s = p.canary / p.total;
  const noise = 4 * Math.sqrt((share * (1 - share)) / p.total);
  const diff = s - share;
  return Math.abs(diff) > Math.max(0.25 * share, noise) ? Math.sign(diff) : 0;
}

function snap(policy: Policy, percent: number): RecordedLevel["rung"] {
  let best: number | undefined;
  policy.ladder.forEach((r, i) => {
    const off = Math.abs(r.percent - percent) / r.percent;
    if (
      off <= 0.3 &&
      (best === undefined ||
        off < Math.abs(policy.ladder[best]!.percent - percent) / policy.ladder[best]!.percent)
    )
      best = i;
  });
  return best;
}

/**
 * The levels a recording was made at. A level, once three slices have shown it, ends where three
 * slices in a row stray the same way from it (one noisy slice is not a move).
 */
export function recordedLevels(policy: Policy, slices: Slice[]): RecordedLevel[] {
  const points = shares(policy, slices);
  const levels: { from: number; canary: number; total: number; slices: number }[] = [];
  let current: { from: number; canary: number; total: number; slices: number } | undefined;
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    if (current) {
      const dir = strays(current, p);
      // A level is known after a few slices; until then every slice refines it.
      const moved =
        current.slices >= 3 &&
        dir !== 0 &&
        i + 2 < points.length &&
        strays(current, points[i + 1]!) === dir &&
        strays(current, points[i + 2]!) === dir;
      if (!moved) {
        current.canary += p.canary;
        current.total += p.total;
        current.slices++;
        continue;
      }
    }
    current = { from: p.t, canary: p.canary, total: p.total, slices: 1 };
    levels.push(current);
  }
  return levels.map((l) => {
    const percent = Number(((100 * l.canary) / l.total).toPrecision(2));
    const rung = snap(policy, percent);
    return rung === undefined ? { from: l.from, percent } : { from: l.from, percent, rung };
  });
}
