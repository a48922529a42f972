import type { OutboxMessage } from "../ledger/outbox.js";

// Message bodies, one function per format. Webhook receivers get the payload as queued (it
// carries event, deployment_id, state, step, percent, idempotency_key and the audit head);
// Slack-compatible receivers get readable text with the same facts.

const EMOJI: Record<string, string> = {
  started: ":rocket:",
  step_changed: ":arrow_up:",
  hold: ":pause_button:",
  rollback: ":rotating_light:",
  completed: ":white_check_mark:",
  override: ":warning:",
};

const plain = new Intl.NumberFormat("en-US", { maximumSignificantDigits: 4 });
const whole = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/** A measured value as people read it: four significant digits, thousands separated. */
export function readableNumber(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "-";
  return Math.abs(x) >= 10_000 ? whole.format(x) : plain.format(x);
}

/** An evidence ratio: three significant digits, and beyond a million just "over 1,000,000". */
export function readableEvidence(x: number | null | undefined): string {
  if (x === null || x === undefined || Number.isNaN(x)) return "-";
  if (x >= 1_000_000) return "over 1,000,000";
  return new Intl.NumberFormat("en-US", { maximumSignificantDigits: 3 }).format(x);
}

/** The deployment's page on the server people use, when one is known (`--public-url`). */
export function deploymentLink(publicUrl: string | undefined, id: string): string | undefined {
  if (!publicUrl) return undefined;
  return `${publicUrl.replace(/\/+$/, "")}/deployments/${encodeURIComponent(id)}`;
}

function headline(p: Record<string, unknown>): string {
  const id = String(p.deployment_id);
  const service = p.service ? `${String(p.service)} ` : "";
  switch (p.event) {
    case "started":
      return `Canary ${service}${id} started at ${p.percent}%`;
    case "step_changed":
      return `Canary ${service}${id} promoted to ${p.percent}% (step ${p.step})`;
    case "completed":
      return `Canary ${service}${id} completed: 100% of traffic`;
    case "hold":
      return `Canary ${service}${id} holding at ${p.percent}%`;
    case "rollback":
      return `Canary ${service}${id} ROLLED BACK from ${p.from_percent ?? "?"}% to 0%`;
    case "override":
      return `Canary ${service}${id} promoted by override to ${p.percent}%`;
    default:
      return `Canary ${service}${id}: ${String(p.event)}`;
  }
}

export function slackBody(
  m: OutboxMessage,
  opts: { publicUrl?: string | undefined } = {},
): Record<string, unknown> {
  const p = m.payload;
  const lines = [`${EMOJI[m.event] ?? ""} *${headline(p)}*`.trim()];
  if (Array.isArray(p.reasons) && p.reasons.length)
    lines.push(...p.reasons.slice(0, 5).map((r) => `• ${String(r)}`));
  if (typeof p.reason === "string") lines.push(`Reason: ${p.reason} (by ${String(p.actor)})`);
  if (m.event === "rollback" && p.author) lines.push(`Author: ${String(p.author)}`);
  if (Array.isArray(p.evidence)) {
    for (const e of p.evidence.slice(0, 3) as {
      metric?: string;
      statistic?: string;
      status?: string;
      canary?: number | null;
      control?: number | null;
      evidence?: number;
    }[]) {
      lines.push(
        `• ${e.metric} ${e.statistic}: ${e.status} (canary ${readableNumber(e.canary)} vs control ${readableNumber(e.control)}, evidence ${readableEvidence(e.evidence)}x)`,
      );
    }
  }
  // Slack opens only http(s) links: the server's page when known, else the command to run.
  const link = deploymentLink(opts.publicUrl, String(p.deployment_id));
  if (link)
    lines.push(
      `Report: <${link}|${String(p.deployment_id)}> (or \`canary compare ${String(p.deployment_id)}\`)`,
    );
  else if (typeof p.report === "string") lines.push(`Report: \`canary compare ${String(p.deployment_id)}\``);
  lines.push(`_audit head ${String(p.audit_head).slice(0, 16)}…, key ${m.idempotency_key}_`);
  return { text: lines.join("\n") };
}

export function webhookBody(m: OutboxMessage): Record<string, unknown> {
  return m.payload;
}
