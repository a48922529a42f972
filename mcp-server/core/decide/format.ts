import type { Row } from "../report.js";

// Numbers in reasons are read by people deciding whether to trust a verdict: short, with units
// where the row has them, and always the same text for the same value (verdicts are deterministic).

/** "0.82%" for rates: two significant digits below 1%, two decimals above. */
export function formatRate(value: number): string {
  const pct = value * 100;
  if (pct === 0) return "0%";
  if (Math.abs(pct) < 1) return `${Number(pct.toPrecision(2))}%`;
  return `${Number(pct.toFixed(2))}%`;
}

/** A plain measurement (latency, a mean): at most four significant digits, no exponent for everyday sizes. */
export function formatNumber(value: number): string {
  if (value === 0) return "0";
  const abs = Math.abs(value);
  if (abs >= 1e9 || abs < 1e-4) return value.toExponential(2);
  if (abs >= 1000) return Math.round(value).toLocaleString("en-US");
  return String(Number(value.toPrecision(4)));
}

/** A count of requests or samples: "12,400". */
export function formatCount(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

/**
 * An e-value as evidence: "0.03x", "3.1x", "340x", "12,000x"; past a million it only matters that
 * it is past a million (a proven margin can reach 1e+299, which reads as noise).
 */
export function formatEvidence(value: number): string {
  if (Number.isNaN(value)) return "n/a";
  if (value >= 1e6) return ">1,000,000x";
  if (value <= 0) return "0x";
  if (value < 0.1) return `${Number(value.toPrecision(1))}x`;
  if (value < 10) return `${Number(value.toFixed(1))}x`;
  return `${Math.round(value).toLocaleString("en-US")}x`;
}

/** A relative difference as a signed percent: "+61%", "-4.2%". */
export function formatRelative(value: number): string {
  const pct = value * 100;
  const text = Math.abs(pct) < 10 ? Number(pct.toFixed(1)) : Math.round(pct);
  return `${pct >= 0 ? "+" : ""}${text}%`;
}

/** Tolerance or margin in the row's interval scale: "+50%" or "+50". */
export function formatThreshold(value: number, scale: Row["interval_scale"]): string {
  return scale === "relative" ? formatRelative(value) : `+${formatNumber(value)}`;
}

/** "endpoint=/checkout, region=eu" (keys sorted, so the text is stable). */
export function formatSegment(segment: Record<string, string>): string {
  return Object.keys(segment)
    .sort()
    .map((k) => `${k}=${segment[k]}`)
    .join(", ");
}

/**
 * A row's values as people name them: a ratio judged on its complement (a cache hit rate, where
 * fewer hits is the harm) is shown as the rate itself, with the difference of those rates, so a
 * hit rate reads 84.4%, never "complement_rate 15.6%".
 */
export function shownValues(row: Row): { canary: number | null; control: number | null; rel: number | null } {
  if (row.statistic !== "complement_rate")
    return { canary: row.canary.value, control: row.control.value, rel: row.rel_diff };
  const canary = row.canary.value === null ? null : 1 - row.canary.value;
  const control = row.control.value === null ? null : 1 - row.control.value;
  const rel = canary !== null && control !== null && control > 0 ? (canary - control) / control : null;
  return { canary, control, rel };
}

/** The row's canary and control values: "canary 0.82% vs control 0.51% (+61%)". */
export function formatValues(row: Row, isRate: boolean): string {
  const show = (v: number | null): string => (v === null ? "n/a" : isRate ? formatRate(v) : formatNumber(v));
  const label =
    row.statistic === "rate" || row.statistic === "mean" || row.statistic === "complement_rate"
      ? ""
      : ` ${row.statistic}`;
  const v = shownValues(row);
  const diff = v.rel !== null && Number.isFinite(v.rel) ? ` (${formatRelative(v.rel)})` : "";
  return `canary${label} ${show(v.canary)} vs control ${show(v.control)}${diff}`;
}

/** "the difference lies in -20%..+90%" from the row's anytime-valid interval, when it has one. */
export function formatInterval(row: Row): string | undefined {
  if (row.ci_low === null || row.ci_high === null) return undefined;
  const show = (v: number): string =>
    !Number.isFinite(v)
      ? v > 0
        ? "+inf"
        : "-inf"
      : row.interval_scale === "relative"
        ? formatRelative(v)
        : `${v >= 0 ? "+" : ""}${formatNumber(v)}`;
  return `difference in ${show(row.ci_low)}..${show(row.ci_high)}`;
}
