/** Time as the scheduler sees it: the wall clock in production, virtual time in replays and tests. */
export interface SchedulerClock {
  now(): number;
  /** Resolves after `ms`, or at once when the signal aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const wallClock: SchedulerClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      }
      signal?.addEventListener("abort", done, { once: true });
    }),
};

/**
 * Virtual time: sleeping moves the clock on by the time slept and returns at once, so a replay
 * or a test runs a whole ladder in milliseconds with the same loop the wall clock drives.
 * `set` moves it by hand (never backwards).
 */
export interface ManualTime extends SchedulerClock {
  set(t: number): void;
}

export function manualTime(start: number): ManualTime {
  let now = start;
  return {
    now: () => now,
    sleep: async (ms, signal) => {
      if (!signal?.aborted) now += Math.max(0, ms);
    },
    set: (t) => {
      now = Math.max(now, t);
    },
  };
}
