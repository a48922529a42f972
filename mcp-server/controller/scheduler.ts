import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import type { TickAction } from "../operations/tick.js";
import type { SchedulerClock } from "./clock.js";

// The one scheduling loop behind `serve`, `watch`, `tick` and `replay`: ask what is due, look at
// each due deployment in turn (a look pulls, decides and acts, and says when it wants the next
// one), deliver, then sleep until the earliest next look. Only the parts differ: which looks are
// due and what a look is (see ledger-looks.ts and replay.ts), whether a lease says this process
// may act (serve), and the clock (the wall clock, or virtual time that sleeps at once).

/** A deployment the schedule names, with the time its next look is due. */
export interface DueLook {
  deploymentId: string;
  dueAt: number;
}

/** Who may act when several schedulers share a ledger (serve and its standby). */
export interface SchedulerLease {
  /** Claims or renews the lease at `now`; true while this scheduler holds it. */
  claim(now: number): Promise<boolean>;
  /** How long a claim lasts; a pass renews it every third of that. */
  durationMs: number;
  /** Gives the lease up at shutdown, so a standby need not wait for it to expire. */
  release(): void;
}

export interface SchedulerOptions {
  clock: SchedulerClock;
  /** What is due: the deployments to consider at `now`, each with its due time. */
  due(now: number): readonly DueLook[];
  /** One look at a due deployment: pull, decide, act. */
  look(deploymentId: string, now: number): Promise<TickAction>;
  lease?: SchedulerLease;
  /** Delivers queued notifications after each pass. */
  deliver?: (now: number) => Promise<void>;
  /** Longest sleep between passes, so deployments started elsewhere are seen soon. */
  maxSleepMs?: number;
  /** Looks in flight at once (default 1); the actions are still reported in the schedule's order. */
  lookConcurrency?: number;
  /** Lets other work of the process (HTTP requests) in between looks: on for the wall clock. */
  yieldBetweenLooks?: boolean;
  /** When the next pass runs, given the planned time (a replay keeps its own look times). */
  wakeAt?: (planned: number) => number;
  onAction?: (action: TickAction) => void;
  /** A failed look (deploymentId set) or a failed pass; the loop goes on. */
  onError?: (deploymentId: string | undefined, error: unknown) => void;
}

export interface SchedulerPass {
  /** False when another scheduler holds the lease: this pass looked at nothing. */
  leader: boolean;
  actions: TickAction[];
  /** When the next pass should run. */
  nextWakeAt: number;
}

export interface SchedulerStats {
  passes: number;
  looks: number;
  errors: number;
  lastPassMs: number;
  /** How late the latest look ran after it was due, in ms. */
  lastOverdueMs: number;
  leader: boolean;
}

export interface Scheduler {
  /** One pass over everything due now. */
  pass(): Promise<SchedulerPass>;
  /**
   * Runs passes until the signal aborts or `until` says the last pass was the last one, then gives
   * the lease up.
   */
  run(signal?: AbortSignal, until?: (pass: SchedulerPass) => boolean): Promise<void>;
  stats(): SchedulerStats;
}

export function createScheduler(opts: SchedulerOptions): Scheduler {
  const { clock, lease } = opts;
  const maxSleepMs = opts.maxSleepMs ?? 5_000;
  const stats: SchedulerStats = {
    passes: 0,
    looks: 0,
    errors: 0,
    lastPassMs: 0,
    lastOverdueMs: 0,
    leader: lease === undefined,
  };
  const claim = async (now: number) => {
    if (!lease) return true;
    stats.leader = await lease.claim(now);
    return stats.leader;
  };
  const fail = (id: string | undefined, error: unknown) => {
    stats.errors++;
    opts.onError?.(id, error);
  };

  async function pass(): Promise<SchedulerPass> {
    const started = clock.now();
    let leader = await claim(started);
    const actions: TickAction[] = [];
    // Renew well before expiry: a third of the lease, as a standby waits for all of it.
    let renewAt = lease ? started + lease.durationMs / 3 : Number.POSITIVE_INFINITY;
    let nextWakeAt = Math.min(renewAt, started + maxSleepMs);
    if (leader) {
      const due: DueLook[] = [];
      for (const entry of opts.due(started)) {
        if (entry.dueAt > started) nextWakeAt = Math.min(nextWakeAt, entry.dueAt);
        else due.push(entry);
      }
      const done: (TickAction | undefined)[] = [];
      let next = 0;
      // Looks run one after another, or a few at once (their pulls wait on the metric source
      // together; the decisions themselves are short writes that the ledger serialises).
      const lookInTurn = async () => {
        while (leader && next < due.length) {
          const index = next++;
          const { deploymentId, dueAt } = due[index]!;
          const now = clock.now();
          if (now >= renewAt && lease) {
            renewAt = now + lease.durationMs / 3;
            nextWakeAt = Math.min(nextWakeAt, renewAt);
            leader = await claim(now);
            if (!leader) break;
          }
          try {
            const action = await opts.look(deploymentId, now);
            stats.looks++;
            stats.lastOverdueMs = Math.max(0, clock.now() - Math.max(dueAt, started));
            done[index] = action;
            opts.onAction?.(action);
            if (action.next_due_at) nextWakeAt = Math.min(nextWakeAt, Date.parse(action.next_due_at));
          } catch (error) {
            fail(deploymentId, error);
          }
          if (opts.yieldBetweenLooks) await yieldToEventLoop();
        }
      };
      const workers = Math.max(1, Math.min(opts.lookConcurrency ?? 1, due.length));
      await Promise.all(Array.from({ length: workers }, lookInTurn));
      for (const action of done) if (action) actions.push(action);
    }
    try {
      await opts.deliver?.(clock.now());
    } catch (error) {
      fail(undefined, error);
    }
    stats.passes++;
    stats.lastPassMs = clock.now() - started;
    return { leader, actions, nextWakeAt: opts.wakeAt ? opts.wakeAt(nextWakeAt) : nextWakeAt };
  }

  async function run(signal?: AbortSignal, until?: (pass: SchedulerPass) => boolean): Promise<void> {
    try {
      while (!signal?.aborted) {
        let wakeAt = clock.now() + Math.min(1_000, maxSleepMs);
        try {
          const done = await pass();
          if (until?.(done)) return;
          wakeAt = done.nextWakeAt;
        } catch (error) {
          fail(undefined, error);
        }
        if (signal?.aborted) break;
        await clock.sleep(Math.max(0, wakeAt - clock.now()), signal);
      }
    } finally {
      if (lease) {
        try {
          lease.release();
        } catch {
          // Busy at shutdown: the lease simply expires.
        }
      }
    }
  }

  return { pass, run, stats: () => ({ ...stats }) };
}
