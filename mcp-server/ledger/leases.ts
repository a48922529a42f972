import { sqlOf } from "./connection.js";
import type { Ledger } from "./open.js";

// A lease in the ledger lets several controllers share one ledger with one of them acting: the
// holder renews it well before it expires; a standby takes it over only once it has expired.

export interface Lease {
  holder: string;
  acquired_at: number;
  expires_at: number;
}

const key = (name: string) => `lease:${name}`;

export function readLease(ledger: Ledger, name: string): Lease | undefined {
  const value = sqlOf(ledger).prepare("SELECT value FROM meta WHERE key = ?").pluck().get(key(name)) as
    | string
    | undefined;
  return value === undefined ? undefined : (JSON.parse(value) as Lease);
}

/**
 * Takes or renews the lease for `holder` until `now + ttlMs`, in one write transaction; returns
 * the lease as it stands afterwards (held by someone else when theirs has not expired).
 */
export function claimLease(ledger: Ledger, name: string, holder: string, now: number, ttlMs: number): Lease {
  return ledger.write(() => {
    const current = readLease(ledger, name);
    if (current && current.holder !== holder && current.expires_at > now) return current;
    const next: Lease = {
      holder,
      acquired_at: current?.holder === holder ? current.acquired_at : now,
      expires_at: now + ttlMs,
    };
    sqlOf(ledger)
      .prepare(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      )
      .run(key(name), JSON.stringify(next));
    return next;
  });
}

/** Gives the lease up at shutdown, so a standby need not wait for it to expire. */
export function releaseLeaseOf(ledger: Ledger, name: string, holder: string): void {
  ledger.write(() => {
    if (readLease(ledger, name)?.holder === holder)
      sqlOf(ledger).prepare("DELETE FROM meta WHERE key = ?").run(key(name));
  });
}
