import { createHmac } from "node:crypto";
import { request } from "undici";
import { BusyError } from "../core/errors.js";
import { whenLedgerFree } from "../ledger/busy.js";
import { findDeployment } from "../ledger/deployments.js";
import type { Ledger } from "../ledger/open.js";
import { leaseDue, markDelivered, markFailed, type OutboxMessage, releaseLease } from "../ledger/outbox.js";
import { slackBody, webhookBody } from "./format.js";

export const MAX_ATTEMPTS = 20;
/** While a process sends a message, others leave it alone for this long. */
const LEASE_MS = 120_000;
/** How long recording an outcome may wait for the ledger lock: well inside the lease, so a sent message is never sent again. */
const RECORD_DEADLINE_MS = 90_000;
/** How long taking the due messages may wait for the lock before this cycle gives up (the next one tries again). */
const LEASE_DEADLINE_MS = 1_000;

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

/** A failure that retrying will not fix (a redirect): the message is given up at once. */
class PermanentFailure extends Error {}

/** An error's words with the receiver's address taken out (URLs and host names may be secret). */
export function scrubbed(error: unknown, url: string): string {
  let host = "";
  let hostname = "";
  try {
    const u = new URL(url);
    host = u.host;
    hostname = u.hostname;
  } catch {
    // An unparsable URL is still removed whole below.
  }
  const e = error instanceof Error ? error : new Error(String(error));
  const code = (e as NodeJS.ErrnoException).code;
  let text = `${e.name}${code && !e.message.includes(code) ? ` ${code}` : ""}: ${e.message}`;
  for (const secret of [url, host, hostname].filter((s) => s.length > 0))
    text = text.replaceAll(secret, "<receiver>");
  return text;
}

async function send(
  m: OutboxMessage,
  target: { type: "slack" | "webhook"; url: string; secret?: string },
  timeoutMs: number,
  publicUrl: string | undefined,
): Promise<void> {
  const body = JSON.stringify(target.type === "slack" ? slackBody(m, { publicUrl }) : webhookBody(m));
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": "canary-pilot",
    "x-canary-event": m.event,
    "idempotency-key": m.idempotency_key,
  };
  if (target.secret) headers["x-canary-signature"] = signature(target.secret, body);
  // One deadline for everything: DNS, connect, headers and body.
  const signal = AbortSignal.timeout(timeoutMs);
  const res = await request(target.url, { method: "POST", body, headers, signal });
  await res.body.dump({ signal, limit: 64 * 1024 });
  if (res.statusCode >= 300 && res.statusCode < 400)
    throw new PermanentFailure(
      `receiver answered HTTP ${res.statusCode} (a redirect): notifications are not re-sent to another address; set the URL to the final one`,
    );
  if (res.statusCode < 200 || res.statusCode >= 300)
    throw new Error(`receiver answered HTTP ${res.statusCode}`);
}

type Outcome = { id: number; error?: string; permanent?: boolean; attempts: number };

async function deliverOne(
  ledger: Ledger,
  m: OutboxMessage,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  publicUrl: string | undefined,
): Promise<Outcome> {
  const d = ledger.read(() => findDeployment(ledger, m.deployment_id));
  const index = Number(/^notify\[(\d+)\]$/.exec(m.target)?.[1] ?? -1);
  const target = d?.policy.notify[index];
  if (!target)
    return {
      id: m.id,
      attempts: m.attempts,
      error: `no notify target ${m.target} in the deployment's policy`,
    };
  const url = env[target.url_env];
  const secret = target.secret_env ? env[target.secret_env] : undefined;
  if (!url)
    return { id: m.id, attempts: m.attempts, error: `environment variable ${target.url_env} is not set` };
  if (target.secret_env && !secret)
    return { id: m.id, attempts: m.attempts, error: `environment variable ${target.secret_env} is not set` };
  try {
    await send(
      m,
      secret ? { type: target.type, url, secret } : { type: target.type, url },
      timeoutMs,
      publicUrl,
    );
    return { id: m.id, attempts: m.attempts };
  } catch (e) {
    // Name the failure, never the receiver's address.
    const error =
      e instanceof Error && e.name === "TimeoutError"
        ? `no answer within ${timeoutMs} ms`
        : e instanceof PermanentFailure
          ? e.message
          : scrubbed(e, url);
    return { id: m.id, attempts: m.attempts, error, permanent: e instanceof PermanentFailure };
  }
}

/**
 * Delivers what is due from the outbox, every message at once, each within its own deadline (a
 * hanging receiver delays nobody else). Messages are leased in a transaction first, so two
 * processes flushing one ledger do not both send; receivers still get an idempotency key.
 * A failure only reschedules the message: it never touches a decision or a deployment.
 * Secrets (URLs, signing keys) come from the environment and never reach logs or errors.
 * Ledger writes wait for the lock asynchronously, so a busy ledger never stalls the caller's loop.
 */
export async function deliverDue(
  ledger: Ledger,
  opts: {
    now: number;
    env?: NodeJS.ProcessEnv;
    timeoutMs?: number;
    limit?: number;
    deadline?: number;
    /** Where people open a deployment's page (`canary serve --public-url`), for links in messages. */
    publicUrl?: string;
  },
): Promise<DeliveryResult> {
  const env = opts.env ?? process.env;
  const result: DeliveryResult = { delivered: 0, failed: 0, errors: [] };
  let leased: OutboxMessage[];
  try {
    leased = await whenLedgerFree(() => leaseDue(ledger, opts.now, LEASE_MS, opts.limit ?? 50), {
      deadlineMs: LEASE_DEADLINE_MS,
    });
  } catch (error) {
    if (error instanceof BusyError) return result;
    throw error;
  }
  const left = (opts.deadline ?? Number.POSITIVE_INFINITY) - Date.now();
  if (left <= 0) {
    // Out of time before sending anything: hand every message back for the next flush.
    for (const m of leased)
      await whenLedgerFree(() => releaseLease(ledger, m.id, m.next_attempt_at), {
        deadlineMs: RECORD_DEADLINE_MS,
      });
    return result;
  }
  const timeoutMs = Math.max(1, Math.min(opts.timeoutMs ?? 5_000, left));
  const outcomes = await Promise.all(
    leased.map((m) => deliverOne(ledger, m, env, timeoutMs, opts.publicUrl)),
  );
  for (const o of outcomes) {
    if (o.error === undefined) {
      await whenLedgerFree(() => markDelivered(ledger, o.id, opts.now), { deadlineMs: RECORD_DEADLINE_MS });
      result.delivered++;
      continue;
    }
    const attempts = o.attempts + 1;
    const giveUp = o.permanent || attempts >= MAX_ATTEMPTS;
    const error = o.error;
    await whenLedgerFree(
      () =>
        markFailed(ledger, o.id, error, giveUp ? Number.MAX_SAFE_INTEGER : opts.now + retryDelayMs(attempts)),
      { deadlineMs: RECORD_DEADLINE_MS },
    );
    result.failed++;
    result.errors.push({ id: o.id, error });
  }
  return result;
}
