import { setTimeout as sleep } from "node:timers/promises";
import { BusyError } from "../core/errors.js";

/**
 * Runs a ledger call, and while another process holds the write lock retries it after short
 * asynchronous pauses instead of blocking the event loop in SQLite's busy wait. Long-lived
 * servers open their ledger with a short busy timeout and call writes through this, so reads,
 * REST and health checks keep answering while someone else writes. Gives up with the BusyError
 * (retryable: nothing was written) once `deadlineMs` has passed.
 */
export async function whenLedgerFree<T>(
  fn: () => T | Promise<T>,
  opts: { deadlineMs?: number } = {},
): Promise<T> {
  const giveUpAt = Date.now() + (opts.deadlineMs ?? 15_000);
  let pause = 5;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (!(error instanceof BusyError) || Date.now() + pause > giveUpAt) throw error;
    }
    await sleep(pause);
    pause = Math.min(250, pause * 2);
  }
}
