import { esc } from "./escape.js";

// Server-rendered SVG charts over time: no scripts, no fonts or files to fetch, colours from the
// page's CSS classes (so light and dark mode follow the page). Every plotted point carries its
// time and exact value as data attributes and a title, and every chart has a title and a
// description for screen readers; the numbers themselves are in the history JSON.

export interface TimePoint {
  t: number;
  v: number;
}

export interface ChartSeries {
  name: string;
  /** CSS class suffix: s-canary, s-control, s-evidence ... */
  cls: string;
  points: TimePoint[];
  /** An interval drawn as a shaded band behind the line. */
  band?: { t: number; lo: number; hi: number }[];
  dashed?: boolean;
}

export interface ChartLine {
  v: number;
  label: string;
  cls: string;
}

export interface TimeChart {
  id: string;
  title: string;
  desc: string;
  from: number;
  to: number;
  scale: "linear" | "log";
  format: (v: number) => string;
  series: ChartSeries[];
  /** Horizontal reference lines (threshold, tolerance). */
  lines?: ChartLine[];
  /** Vertical markers (step starts). */
  marks?: { t: number; label: string }[];
  /** Force the y range to include these values. */
  include?: number[];
}

export const WIDTH = 720;
const LEFT = 72;
const RIGHT = 12;
const TOP = 12;
const BOTTOM = 28;

const num = (v: number): string => String(Math.round(v * 10) / 10);

export function timeTicks(from: number, to: number, count = 5): { t: number; label: string }[] {
  const span = Math.max(1, to - from);
  const days = span > 36 * 3600_000;
  return Array.from({ length: count }, (_, i) => {
    const t = from + (span * i) / (count - 1);
    const s = new Date(t).toISOString();
    return { t, label: days ? `${s.slice(5, 10)} ${s.slice(11, 16)}` : s.slice(11, 16) };
  });
}

/** The first and last time labels sit inside the chart. */
export function tickAnchor(i: number, count: number): string {
  return i === 0 ? "start" : i === count - 1 ? "end" : "middle";
}

function yDomain(c: TimeChart): [number, number] {
  const values = [
    ...c.series.flatMap((s) => [...s.points.map((p) => p.v), ...(s.band ?? []).flatMap((b) => [b.lo, b.hi])]),
    ...(c.lines ?? []).map((l) => l.v),
    ...(c.include ?? []),
  ].filter((v) => Number.isFinite(v) && (c.scale === "linear" || v > 0));
  if (c.scale === "log") {
    // Evidence below 1/1000 or above a million times the threshold says nothing more.
    const top = Math.max(...(c.lines ?? []).map((l) => l.v), 10);
    let lo = Math.max(Math.min(...values, 0.1), 1e-3);
    let hi = Math.min(Math.max(...values, 10), top * 1e6);
    lo = 10 ** Math.floor(Math.log10(lo));
    hi = 10 ** Math.ceil(Math.log10(hi));
    return [lo, hi > lo ? hi : lo * 10];
  }
  if (values.length === 0) return [0, 1];
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (lo > 0 && lo < hi / 2) lo = 0;
  if (hi === lo) hi = lo === 0 ? 1 : lo * 1.1 + (lo < 0 ? -lo * 0.2 : 0);
  const pad = (hi - lo) * 0.08;
  return [lo === 0 ? 0 : lo - pad, hi + pad];
}

export function renderTimeChart(c: TimeChart, height = 220): string {
  const [lo, hi] = yDomain(c);
  const plotW = WIDTH - LEFT - RIGHT;
  const plotH = height - TOP - BOTTOM;
  const span = Math.max(1, c.to - c.from);
  const x = (t: number): number => LEFT + ((Math.min(Math.max(t, c.from), c.to) - c.from) / span) * plotW;
  const y = (v: number): number => {
    const f =
      c.scale === "log"
        ? (Math.log10(Math.min(Math.max(v, lo), hi)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))
        : (Math.min(Math.max(v, lo), hi) - lo) / (hi - lo);
    return TOP + plotH * (1 - f);
  };
  const parts: string[] = [];
  const yTicks =
    c.scale === "log"
      ? Array.from({ length: Math.round(Math.log10(hi / lo)) + 1 }, (_, i) => lo * 10 ** i).filter(
          (_, i, all) => all.length <= 7 || i % Math.ceil(all.length / 6) === 0,
        )
      : Array.from({ length: 5 }, (_, i) => lo + ((hi - lo) * i) / 4);
  for (const v of yTicks) {
    parts.push(
      `<line class="grid" x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${num(y(v))}" y2="${num(y(v))}"/><text class="tick" x="${LEFT - 6}" y="${num(y(v) + 4)}" text-anchor="end">${esc(c.format(v))}</text>`,
    );
  }
  const ticks = timeTicks(c.from, c.to);
  ticks.forEach((tick, i) => {
    parts.push(
      `<text class="tick" x="${num(x(tick.t))}" y="${height - 8}" text-anchor="${tickAnchor(i, ticks.length)}">${esc(tick.label)}</text>`,
    );
  });
  for (const m of c.marks ?? []) {
    parts.push(
      `<line class="mark" x1="${num(x(m.t))}" x2="${num(x(m.t))}" y1="${TOP}" y2="${TOP + plotH}"><title>${esc(m.label)}</title></line>`,
    );
  }
  for (const s of c.series) {
    if (s.band && s.band.length > 0) {
      const upper = s.band.map((b) => `${num(x(b.t))},${num(y(b.hi))}`);
      const lower = [...s.band].reverse().map((b) => `${num(x(b.t))},${num(y(b.lo))}`);
      parts.push(`<polygon class="band s-${esc(s.cls)}" points="${[...upper, ...lower].join(" ")}"/>`);
    }
  }
  for (const l of c.lines ?? []) {
    parts.push(
      `<line class="ref s-${esc(l.cls)}" x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${num(y(l.v))}" y2="${num(y(l.v))}" data-line="${esc(l.label)}" data-value="${l.v}"><title>${esc(`${l.label}: ${c.format(l.v)}`)}</title></line>`,
    );
  }
  for (const s of c.series) {
    if (s.points.length > 1) {
      parts.push(
        `<polyline class="line s-${esc(s.cls)}${s.dashed ? " dashed" : ""}" points="${s.points.map((p) => `${num(x(p.t))},${num(y(p.v))}`).join(" ")}"/>`,
      );
    }
    for (const p of s.points) {
      const at = new Date(p.t).toISOString();
      parts.push(
        `<circle class="pt s-${esc(s.cls)}" cx="${num(x(p.t))}" cy="${num(y(p.v))}" r="3" data-series="${esc(s.name)}" data-at="${at}" data-value="${p.v}"><title>${esc(`${s.name} ${at}: ${c.format(p.v)}`)}</title></circle>`,
      );
    }
  }
  parts.push(`<rect class="frame" x="${LEFT}" y="${TOP}" width="${plotW}" height="${plotH}"/>`);
  const legend = [
    ...c.series.map(
      (s) => `<li><span class="key s-${esc(s.cls)}${s.dashed ? " dashed" : ""}"></span>${esc(s.name)}</li>`,
    ),
    ...(c.lines ?? []).map((l) => `<li><span class="key ref s-${esc(l.cls)}"></span>${esc(l.label)}</li>`),
  ].join("");
  return `<figure class="chart" data-chart="${esc(c.id)}">
<figcaption>${esc(c.title)}</figcaption>
<svg viewBox="0 0 ${WIDTH} ${height}" role="img" aria-labelledby="${esc(c.id)}-t ${esc(c.id)}-d" data-scale="${c.scale}"><title id="${esc(c.id)}-t">${esc(c.title)}</title><desc id="${esc(c.id)}-d">${esc(c.desc)}</desc>${parts.join("")}</svg>
<ul class="legend">${legend}</ul>
</figure>`;
}
