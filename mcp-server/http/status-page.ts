import type { DeploymentStatus } from "../operations/deployment-status.js";

// The status page for people: server-rendered HTML, no scripts, refreshes itself. Every value is
// escaped; nothing secret is on it (policies name environment variables, never their values).

function esc(value: unknown): string {
  return String(value ?? "").replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );
}

const STATE_CLASS: Record<string, string> = {
  canary: "running",
  paused: "paused",
  completed: "ok",
  rolled_back: "bad",
};

function ladder(s: DeploymentStatus): string {
  return s.ladder
    .map((r, i) => {
      const cls =
        s.state === "rolled_back"
          ? i === s.step
            ? "rung bad"
            : "rung"
          : i < s.step || s.state === "completed"
            ? "rung done"
            : i === s.step
              ? "rung now"
              : "rung";
      return `<span class="${cls}">${esc(r.percent)}%</span>`;
    })
    .join("");
}

function card(s: DeploymentStatus): string {
  const d = s.latest_decision;
  return `<section class="card ${STATE_CLASS[s.state] ?? ""}" data-deployment="${esc(s.deployment_id)}">
  <h2>${esc(s.deployment_id)} <small>${esc(s.service)}${s.version ? ` ${esc(s.version)}` : ""}</small></h2>
  <p class="state"><b data-field="state">${esc(s.state.replace("_", " "))}</b> at <b data-field="percent">${esc(s.percent)}%</b>
     ${s.author ? ` &middot; author ${esc(s.author)}` : ""}</p>
  <p class="ladder">${ladder(s)}</p>
  ${s.window_ends_at && s.state === "canary" ? `<p>window ends ${esc(s.window_ends_at)}</p>` : ""}
  ${
    d
      ? `<p class="verdict">latest decision #${esc(d.decision_id)}: <b data-field="verdict">${esc(d.verdict)}</b> (${esc(d.decided_at)})</p>
  <ul>${d.reasons.map((r, i) => `<li><code>${esc(d.reason_codes[i])}</code> ${esc(r)}</li>`).join("")}</ul>`
      : "<p>no decision yet</p>"
  }
</section>`;
}

export function renderStatusPage(deployments: DeploymentStatus[], auditHead: string, now: Date): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="15">
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<title>canary-pilot</title>
<style>
 body{font:15px/1.4 system-ui,sans-serif;margin:2rem;background:#f6f7f9;color:#1d2330}
 h1{font-size:1.4rem;margin:0 0 .25rem} .meta{color:#667;margin:0 0 1.5rem;font-size:.85rem}
 .card{background:#fff;border-left:6px solid #99a;border-radius:6px;padding:.8rem 1.2rem;margin:0 0 1rem;box-shadow:0 1px 2px #0001}
 .card.running{border-color:#d9a100}.card.ok{border-color:#1f9d55}.card.bad{border-color:#d13438}.card.paused{border-color:#777}
 h2{font-size:1.1rem;margin:.2rem 0} h2 small{color:#667;font-weight:normal}
 .rung{display:inline-block;padding:.1rem .5rem;margin-right:.3rem;border-radius:4px;background:#eceef2;font-size:.85rem}
 .rung.done{background:#cfeedd}.rung.now{background:#ffe8a3;font-weight:bold}.rung.bad{background:#f8c9ca;font-weight:bold}
 ul{margin:.3rem 0 .2rem 1.2rem;padding:0} code{font-size:.8rem;background:#eef;padding:0 .25rem;border-radius:3px}
</style></head>
<body>
<h1>canary-pilot</h1>
<p class="meta">${deployments.length} deployment${deployments.length === 1 ? "" : "s"} &middot; as of ${esc(now.toISOString())} &middot; audit head <code>${esc(auditHead)}</code></p>
${deployments.length ? deployments.map(card).join("\n") : "<p>No deployments yet. Start one with <code>canary start</code> or the start_deployment tool.</p>"}
</body></html>`;
}
