import { describe, expect, it } from "vitest";
import { manualTime } from "../../../mcp-server/controller/clock.js";
import {
  createScheduler,
  type DueLook,
  type SchedulerLease,
} from "../../../mcp-server/controller/scheduler.js";
import type { TickAction } from "../../../mcp-server/operations/tick.js";

const T0 = Date.parse("2026-05-26T10:00:00Z");
const MIN = 60_000;
const iso = (t: number) => new Date(t).toISOString();

/** A stand-in deployment: looked at every `every` ms, ending after `looks` looks. */
function fleet(specs: Record<string, { every: number; looks: number }>) {
  const dueAt = new Map(Object.keys(specs).map((id) => [id, T0 + specs[id]!.every]));
  const seen: [string, number][] = [];
  const due = (): DueLook[] => [...dueAt].map(([deploymentId, t]) => ({ deploymentId, dueAt: t }));
  const look = async (id: string, now: number): Promise<TickAction> => {
    seen.push([id, now]);
    const spec = specs[id]!;
    const done = seen.filter(([x]) => x === id).length >= spec.looks;
    if (done) dueAt.delete(id);
    else dueAt.set(id, now + spec.every);
    return {
      deployment_id: id,
      action: done ? "completed" : "decided",
      verdict: "promote",
      reason_codes: [],
      state: done ? "completed" : "canary",
      step: 0,
      percent: 5,
      next_due_at: done ? null : iso(now + spec.every),
    };
  };
  return { due, look, seen };
}

describe("the scheduler", () => {
  it("in virtual time sleeps to the earliest due look and stops when told", async () => {
    const clock = manualTime(T0);
    const f = fleet({ a: { every: 3 * MIN, looks: 3 }, b: { every: 5 * MIN, looks: 2 } });
    const scheduler = createScheduler({
      clock,
      due: f.due,
      look: f.look,
      maxSleepMs: Number.POSITIVE_INFINITY,
    });
    await scheduler.run(undefined, () => f.due().length === 0);
    // Each look exactly when due: never early, never late, in virtual time.
    expect(f.seen.map(([id, t]) => [id, (t - T0) / MIN])).toEqual([
      ["a", 3],
      ["b", 5],
      ["a", 6],
      ["a", 9],
      ["b", 10],
    ]);
    expect(scheduler.stats()).toMatchObject({ looks: 5, errors: 0, lastOverdueMs: 0, leader: true });
  });

  it("wakes at least every maxSleepMs, so deployments started elsewhere are seen soon", async () => {
    const clock = manualTime(T0);
    const wakes: number[] = [];
    const scheduler = createScheduler({
      clock,
      due: (now) => {
        wakes.push((now - T0) / 1000);
        return [];
      },
      look: () => Promise.reject(new Error("nothing is due")),
      maxSleepMs: 5_000,
    });
    await scheduler.run(undefined, () => wakes.length >= 4);
    expect(wakes).toEqual([0, 5, 10, 15]);
  });

  it("runs looks a few at once when asked, and still reports them in the schedule's order", async () => {
    let inFlight = 0;
    let most = 0;
    const ids = ["a", "b", "c", "d", "e", "f", "g"];
    const scheduler = createScheduler({
      clock: manualTime(T0),
      due: () => ids.map((deploymentId) => ({ deploymentId, dueAt: T0 })),
      look: async (id) => {
        inFlight++;
        most = Math.max(most, inFlight);
        // Later ids answer sooner: completion order is not the schedule's.
        await new Promise((r) => setTimeout(r, 5 * (ids.length - ids.indexOf(id))));
        inFlight--;
        return { ...(await fleet({ [id]: { every: MIN, looks: 9 } }).look(id, T0)) };
      },
      lookConcurrency: 3,
    });
    const pass = await scheduler.pass();
    expect(most).toBe(3);
    expect(pass.actions.map((a) => a.deployment_id)).toEqual(ids);
  });

  it("keeps going after a failed look, reporting it with the deployment's id", async () => {
    const errors: [string | undefined, string][] = [];
    const scheduler = createScheduler({
      clock: manualTime(T0),
      due: () => ["a", "b", "c"].map((deploymentId) => ({ deploymentId, dueAt: T0 })),
      look: async (id, now) => {
        if (id === "b") throw new Error("ledger is busy");
        return fleet({ [id]: { every: MIN, looks: 9 } }).look(id, now);
      },
      onError: (id, e) => errors.push([id, (e as Error).message]),
    });
    const pass = await scheduler.pass();
    expect(pass.actions.map((a) => a.deployment_id)).toEqual(["a", "c"]);
    expect(errors).toEqual([["b", "ledger is busy"]]);
    expect(scheduler.stats()).toMatchObject({ looks: 2, errors: 1 });
  });

  it("looks at nothing without the lease, renews it during a long pass, stops when it is lost, and gives it up at the end", async () => {
    const clock = manualTime(T0);
    const claims: number[] = [];
    let grant = (_now: number) => true;
    let released = 0;
    const lease: SchedulerLease = {
      durationMs: 3 * MIN,
      claim: async (now) => {
        claims.push((now - T0) / MIN);
        return grant(now);
      },
      release: () => {
        released++;
      },
    };
    const seen: string[] = [];
    const scheduler = createScheduler({
      clock,
      due: () => ["a", "b", "c", "d"].map((deploymentId) => ({ deploymentId, dueAt: T0 })),
      // Each look takes a minute of virtual time.
      look: async (id, now) => {
        seen.push(id);
        clock.set(now + MIN);
        return fleet({ [id]: { every: MIN, looks: 9 } }).look(id, now);
      },
      lease,
    });
    grant = () => false;
    expect(await scheduler.pass()).toMatchObject({ leader: false, actions: [] });
    expect(seen).toEqual([]);
    // Renewed every third of the lease (at +1 min of the pass); lost at the renewal after that.
    grant = (now) => now < T0 + 2 * MIN;
    const pass = await scheduler.pass();
    expect(claims).toEqual([0, 0, 1, 2]);
    expect(seen).toEqual(["a", "b"]);
    expect(pass).toMatchObject({ leader: false });
    expect(scheduler.stats().leader).toBe(false);
    await scheduler.run(undefined, () => true);
    expect(released).toBe(1);
  });

  it("lets the caller keep its own look times (a replay never looks closer than a slice)", async () => {
    const clock = manualTime(T0);
    const f = fleet({ a: { every: MIN, looks: 4 } });
    const scheduler = createScheduler({
      clock,
      due: f.due,
      look: f.look,
      wakeAt: (planned) => Math.max(planned, clock.now() + 2 * MIN),
      maxSleepMs: Number.POSITIVE_INFINITY,
    });
    await scheduler.run(undefined, () => f.due().length === 0);
    expect(f.seen.map(([, t]) => (t - T0) / MIN)).toEqual([2, 4, 6, 8]);
  });
});
