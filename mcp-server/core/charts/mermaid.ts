import { formatEvidence, formatRate } from "../decide/format.js";
import type { History } from "../history.js";

// Mermaid charts for the Markdown report (GitHub renders them in step summaries and pull-request
// comments): per guardrail, the evidence against its threshold (log10, since e-values span many
// orders) and the canary against the control at each decision. Mermaid's xychart has no legend,
// so each chart says in its title which line is which, in drawing order.

/** Points per chart: the newest decisions, so a long deployment stays readable. */
export const MERMAID_POINTS = 40;

const clampLog = (v: number): number =>
  Math.round(Math.min(8, Math.max(-3, Math.log10(Math.max(v, 1e-300)))) * 100) / 100;

function quoted(text: string): string {
  return `"${text.replace(/["\\\n`]/g, " ")}"`;
}

function axis(points: { at: string }[]): string {
  const days = new Set(points.map((p) => p.at.slice(0, 10))).size > 1;
  return `[${points.map((p) => quoted(days ? `${p.at.slice(5, 10)} ${p.at.slice(11, 16)}` : p.at.slice(11, 16))).join(", ")}]`;
}

const plain = (v: number): string => String(Number(v.toPrecision(6)));

export function mermaidCharts(h: History): string[] {
  const blocks: string[] = [];
  for (const m of h.metrics) {
    const points = m.points.slice(-MERMAID_POINTS);
    if (points.length < 2) continue;
    const threshold = points[points.length - 1]!.threshold;
    blocks.push(
      [
        "xychart-beta",
        `  title ${quoted(`${m.metric} ${m.label}: log10 evidence of harm, margin evidence, threshold ${formatEvidence(threshold)}`)}`,
        `  x-axis ${axis(points)}`,
        `  y-axis ${quoted("log10 evidence")} -3 --> 8`,
        `  line [${points.map((p) => clampLog(p.evidence)).join(", ")}]`,
        `  line [${points.map((p) => clampLog(p.margin_evidence)).join(", ")}]`,
        `  line [${points.map(() => clampLog(threshold)).join(", ")}]`,
      ].join("\n"),
    );
    const values = points.filter((p) => p.canary !== null && p.control !== null);
    if (values.length >= 2) {
      const scale = m.rate ? 100 : 1;
      blocks.push(
        [
          "xychart-beta",
          `  title ${quoted(`${m.metric} ${m.label}${m.rate ? " (%)" : ""}: canary, control`)}`,
          `  x-axis ${axis(values)}`,
          `  y-axis ${quoted(m.rate ? `${m.label} %` : m.label)}`,
          `  line [${values.map((p) => plain(p.canary! * scale)).join(", ")}]`,
          `  line [${values.map((p) => plain(p.control! * scale)).join(", ")}]`,
        ].join("\n"),
      );
    }
  }
  return blocks;
}

/** The charts as a Markdown section, or "" when there are fewer than two decisions to draw. */
export function mermaidSection(h: History): string {
  const blocks = mermaidCharts(h);
  if (blocks.length === 0) return "";
  const split = h.split.filter((s) => s.observed_share !== null).at(-1);
  const lines = [
    "#### Over time",
    "",
    `${h.decisions.length} decision${h.decisions.length === 1 ? "" : "s"}${h.decisions.length > MERMAID_POINTS ? ` (the newest ${MERMAID_POINTS} drawn)` : ""}; evidence at the threshold decides (harm: rollback, margin: promotion).${split ? ` Latest split: canary ${formatRate(split.observed_share!)} observed, ${split.expected_share === null ? "n/a" : formatRate(split.expected_share)} expected.` : ""}`,
    "",
  ];
  for (const b of blocks) lines.push("```mermaid", b, "```", "");
  return lines.join("\n");
}
