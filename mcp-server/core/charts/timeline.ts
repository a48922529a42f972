import type { History } from "../history.js";
import { esc } from "./escape.js";
import { tickAnchor, timeTicks, WIDTH } from "./svg.js";

// The ladder as a timeline: one bar per step from its start to its end, every decision as a
// marker coloured by verdict (its reasons in the title), and every person's action (pause,
// resume, override, rollback) with actor and reason.

const LEFT = 80;
const RIGHT = 12;
const HEIGHT = 150;
const num = (v: number): string => String(Math.round(v * 10) / 10);

export function renderTimeline(h: History): string {
  const from = Date.parse(h.deployment.started_at);
  const to = Math.max(from + 60_000, Date.parse(h.deployment.ended_at ?? h.as_of));
  const plotW = WIDTH - LEFT - RIGHT;
  const x = (iso: string): number =>
    LEFT + ((Math.min(Math.max(Date.parse(iso), from), to) - from) / (to - from)) * plotW;
  const parts: string[] = [];
  parts.push(
    `<text class="lane" x="4" y="34">steps</text><text class="lane" x="4" y="74">decisions</text><text class="lane" x="4" y="110">actions</text>`,
  );
  h.steps.forEach((s, i) => {
    const x0 = x(s.started_at);
    const x1 = s.ended_at ? x(s.ended_at) : x(h.deployment.ended_at ?? h.as_of);
    const last = i === h.steps.length - 1;
    const cls =
      last && h.deployment.state === "rolled_back"
        ? "bad"
        : last && h.deployment.state !== "completed"
          ? "now"
          : "done";
    parts.push(
      `<g class="step ${cls}" data-step="${s.step}"><rect x="${num(x0)}" y="18" width="${num(Math.max(2, x1 - x0))}" height="24" rx="3"><title>${esc(`step ${s.step + 1} (${s.percent}%): ${s.started_at} to ${s.ended_at ?? "now"}`)}</title></rect>${x1 - x0 > 28 ? `<text x="${num(x0 + 4)}" y="35">${esc(s.percent)}%</text>` : ""}</g>`,
    );
  });
  for (const d of h.decisions) {
    const stale = h.look.decision_id === d.decision_id && (h.look.stale || h.look.overdue);
    parts.push(
      `<circle class="decision v-${d.verdict}${stale ? " stale" : ""}" cx="${num(x(d.at))}" cy="70" r="5" data-decision="${d.decision_id}" data-verdict="${d.verdict}" data-at="${esc(d.at)}"><title>${esc(`#${d.decision_id} ${d.verdict} at ${d.at} (step ${d.step + 1}, ${d.percent}%)\n${d.reasons.join("\n")}`)}</title></circle>`,
    );
  }
  for (const e of h.events) {
    if (e.kind === "start" || (e.kind === "promote" && !e.override) || (e.kind === "complete" && !e.override))
      continue;
    const cx = x(e.at);
    const label = e.override ? `${e.kind} (override)` : e.kind;
    parts.push(
      `<g class="action a-${esc(e.kind)}${e.override ? " override" : ""}" data-action="${esc(e.kind)}" data-at="${esc(e.at)}"><path d="M${num(cx)} 98 l8 8 l-8 8 l-8 -8 z"/><title>${esc(`${label} by ${e.actor} at ${e.at}${e.reason ? `: ${e.reason}` : ""}`)}</title></g>`,
    );
  }
  const ticks = timeTicks(from, to);
  ticks.forEach((tick, i) => {
    const tx = LEFT + ((tick.t - from) / (to - from)) * plotW;
    parts.push(
      `<text class="tick" x="${num(tx)}" y="${HEIGHT - 8}" text-anchor="${tickAnchor(i, ticks.length)}">${esc(tick.label)}</text>`,
    );
  });
  const counts = { promote: 0, hold: 0, rollback: 0 };
  for (const d of h.decisions) counts[d.verdict]++;
  const actions = h.events.filter(
    (e) => e.kind === "pause" || e.kind === "resume" || e.kind === "rollback" || e.override,
  );
  const desc = `${h.steps.length} step${h.steps.length === 1 ? "" : "s"} of ${h.deployment.ladder.length} (${h.steps.map((s) => `${s.percent}% from ${s.started_at}`).join(", ")}); ${h.decisions.length} decisions: ${counts.promote} promote, ${counts.hold} hold, ${counts.rollback} rollback${actions.length ? `; actions: ${actions.map((e) => `${e.kind}${e.override ? " (override)" : ""} by ${e.actor}${e.reason ? ` (${e.reason})` : ""}`).join(", ")}` : ""}.`;
  return `<figure class="chart" data-chart="timeline">
<figcaption>Ladder and decisions</figcaption>
<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-labelledby="timeline-t timeline-d"><title id="timeline-t">Ladder and decisions over time</title><desc id="timeline-d">${esc(desc)}</desc>${parts.join("")}</svg>
<ul class="legend"><li><span class="dot v-promote"></span>promote</li><li><span class="dot v-hold"></span>hold</li><li><span class="dot v-rollback"></span>rollback</li><li><span class="diamond"></span>action by a person (pause, resume, override, rollback)</li></ul>
</figure>`;
}
