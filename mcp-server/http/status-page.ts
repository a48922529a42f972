import { esc } from "../core/charts/escape.js";
import type { CardsPage } from "../operations/deployment-cards.js";
import { lookLabels, rungChips } from "./pages/deployment.js";
import { PAGE_CSS } from "./pages/style.js";

// The status list for people: server-rendered HTML, no scripts, refreshes itself, one page of
// deployments at a time, each linking to its own page. Every value is escaped; nothing secret is
// on it (policies name environment variables, never their values).

const STATE_CLASS: Record<string, string> = {
  canary: "running",
  paused: "paused",
  completed: "ok",
  rolled_back: "bad",
};

type Card = CardsPage["cards"][number];

function ladder(c: Card): string {
  return rungChips(c.deployment.policy.ladder, c.deployment.state, c.deployment.step);
}

function card(c: Card): string {
  const d = c.deployment;
  const x = c.latest;
  const href = `/deployments/${encodeURIComponent(d.id)}`;
  return `<section class="card ${STATE_CLASS[d.state] ?? ""}" data-deployment="${esc(d.id)}">
  <h2><a href="${esc(href)}">${esc(d.id)}</a> <small>${esc(d.service)}${d.version ? ` ${esc(d.version)}` : ""}</small></h2>
  <p class="state"><b data-field="state">${esc(d.state.replace("_", " "))}</b> at <b data-field="percent">${esc(d.percent)}%</b>, step ${esc(d.step + 1)} of ${esc(d.policy.ladder.length)}
     ${d.author ? ` &middot; author ${esc(d.author)}` : ""}</p>
  <p class="ladder">${ladder(c)}</p>
  ${
    x
      ? `<p class="verdict">latest decision #${esc(x.id)}: <b data-field="verdict" class="verdict-${esc(x.verdict)}">${esc(x.verdict)}</b> on step ${esc(x.step + 1)} (${esc(new Date(x.decided_at).toISOString())})${lookLabels(c.look)}</p>
  ${c.look.stale || c.look.overdue ? `<p class="meta">${esc(c.look.message)}</p>` : ""}
  <ul>${x.reasons.map((r) => `<li><code>${esc(r.code)}</code> ${esc(r.message)}</li>`).join("")}</ul>`
      : `<p>no decision yet${lookLabels(c.look)}</p>`
  }
</section>`;
}

function pager(p: CardsPage): string {
  if (p.pages <= 1) return "";
  const link = (n: number, text: string): string =>
    `<a href="/?page=${n}${p.per_page === 50 ? "" : `&amp;per_page=${p.per_page}`}" data-page="${n}">${esc(text)}</a>`;
  return `<nav class="pager" aria-label="pages">${p.page > 1 ? link(p.page - 1, "newer") : ""}<span>page ${p.page} of ${p.pages}</span>${p.page < p.pages ? link(p.page + 1, "older") : ""}</nav>`;
}

export function renderStatusPage(p: CardsPage, now: Date): string {
  const first = (p.page - 1) * p.per_page + 1;
  const last = first + p.cards.length - 1;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="15">
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<title>canary-pilot</title>
<style>${PAGE_CSS}</style></head>
<body>
<h1>canary-pilot</h1>
<p class="meta">${p.total} deployment${p.total === 1 ? "" : "s"}${p.cards.length && p.total > p.cards.length ? ` (showing ${first}-${last}, running first, then most recent)` : ""} &middot; as of ${esc(now.toISOString())} &middot; audit head <code>${esc(p.audit_head)}</code></p>
${pager(p)}
${p.cards.length ? p.cards.map(card).join("\n") : p.total ? "<p>No deployments on this page.</p>" : "<p>No deployments yet. Start one with <code>canary start</code> or the start_deployment tool.</p>"}
${pager(p)}
</body></html>`;
}
