import { createHmac } from "node:crypto";
import { request } from "undici";
import { findDeployment } from "../ledger/deployments.js";
import type { Ledger } from "../ledger/open.js";
import { leaseDue, markDelivered, markFailed, type OutboxMessage, releaseLease } from "../ledger/outbox.js";
import { slackBody, webhookBody } from "./format.js";

export const MAX_ATTEMPTS = 20;
/** While a process sends a message, others leave it alone for this long. */
const LEASE_MS = 60_000;

export interface DeliveryResult {
  delivered: number;
  failed: number;
  errors: { id: number; error: string }[];
}

/** Exponential backoff: 5 s, 10 s, 20 s ... capped at an hour. */
export function retryDelayMs(attempts: number): number {
  return Math.min(3_600_000, 5_000 * 2 ** Math.max(0, attempts));
}

export function signature(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

async function send(
  m: OutboxMessage,
  target: { type: "slack" | "webhook"; url: string; secret?: string },
  timeoutMs: number,
): Promise<void> {
  const body = JSON.stringify(target.type === "slack" ? slackBody(m) : webhookBody(m));
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": "canary-pilot",
    "x-canary-event": m.event,
    "idempotency-key": m.idempotency_key,
  };
  if (target.secret) headers["x-canary-signature"] = signature(target.secret, body);
  const res = await request(target.url, {
    method: "POST",
    body,
    headers,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  await res.body.dump();
  if (res.statusCode < 200 || res.statusCode >= 300)
    throw new Error(`receiver answered HTTP ${res.statusCode}`);
}

/**
 * Delivers what is due from the outbox. Messages are leased inside a transaction first, so two
 * processes flushing one ledger do not both send; receivers still get an idempotency key.
 * A failure only reschedules the message: it never touches a decision or a deployment.
 * Secrets (URLs, signing keys) come from the environment and never reach logs or errors.
 */
export async function deliverDue(
  ledger: Ledger,
  opts: {
    now: number;
    env?: NodeJS.ProcessEnv;
    timeoutMs?: number;
    limit?: number;
    deadline?: number;
    publicUrl?: string;
  },
): Promise<DeliveryResult> {
  const env = opts.env ?? process.env;
  const result: DeliveryResult = { delivered: 0, failed: 0, errors: [] };
  const leased = leaseDue(ledger, opts.now, LEASE_MS, opts.limit ?? 50);
  for (const m of leased) {
    const left = (opts.deadline ?? Number.POSITIVE_INFINITY) - Date.now();
    if (left <= 0) {
      // Out of time: hand the message back for the next flush.
      releaseLease(ledger, m.id, m.next_attempt_at);
      continue;
    }
    const d = findDeployment(ledger, m.deployment_id);
    const index = Number(/^notify\[(\d+)\]$/.exec(m.target)?.[1] ?? -1);
    const target = d?.policy.notify[index];
    let error: string | undefined;
    if (!target) error = `no notify target ${m.target} in the deployment's policy`;
    else {
      const url = env[target.url_env];
      const secret = target.secret_env ? env[target.secret_env] : undefined;
      if (!url) error = `environment variable ${target.url_env} is not set`;
      else if (target.secret_env && !secret) error = `environment variable ${target.secret_env} is not set`;
      else {
        try {
          await send(
            m,
            secret ? { type: target.type, url, secret } : { type: target.type, url },
            Math.max(1, Math.min(opts.timeoutMs ?? 5_000, left)),
          );
        } catch (e) {
          // Name the failure, never the URL (it may embed a token).
          error = e instanceof Error ? `${e.name}: ${e.message.replaceAll(url, "<url>")}` : "delivery failed";
        }
      }
    }
    if (error === undefined) {
      markDelivered(ledger, m.id, opts.now);
      result.delivered++;
    } else {
      const attempts = m.attempts + 1;
      markFailed(
        ledger,
        m.id,
        error,
        attempts >= MAX_ATTEMPTS ? Number.MAX_SAFE_INTEGER : opts.now + retryDelayMs(attempts),
      );
      result.failed++;
      result.errors.push({ id: m.id, error });
    }
  }
  return result;
}
