import type { Ledger } from "../ledger/open.js";
import { deliverDue } from "./deliver.js";

/** How often a long-lived process looks for due notifications, and the most one cycle may take. */
export const DELIVERY_CYCLE_MS = 5_000;
const CYCLE_BUDGET_MS = 4_000;

export interface DeliveryLoop {
  /** Stops looking; resolves once the cycle under way has finished (every lease settled). */
  stop(): Promise<void>;
}

/** Delivers queued notifications every cycle; one cycle at a time, never overlapping. */
export function deliveryLoop(
  ledger: Ledger,
  opts: { publicUrl?: string; onError: (message: string) => void; unref?: boolean; cycleMs?: number },
): DeliveryLoop {
  let stopping = false;
  let running: Promise<void> | undefined;
  const cycle = () => {
    if (running || stopping) return;
    const now = Date.now();
    running = deliverDue(ledger, {
      now,
      deadline: now + Math.min(CYCLE_BUDGET_MS, opts.cycleMs ?? DELIVERY_CYCLE_MS),
      ...(opts.publicUrl ? { publicUrl: opts.publicUrl } : {}),
    })
      .then(() => undefined)
      .catch((e: unknown) => opts.onError(e instanceof Error ? e.message : String(e)))
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(cycle, opts.cycleMs ?? DELIVERY_CYCLE_MS);
  if (opts.unref) timer.unref();
  return {
    async stop() {
      stopping = true;
      clearInterval(timer);
      await running;
    },
  };
}
