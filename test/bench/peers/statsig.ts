import { createHash } from "node:crypto";

// Statsig's pass-percentage check (server SDKs): SHA-256 of `${salt}.${unitId}`, the first 8 bytes
// as a big-endian uint64, mod 10000; the unit passes when that is below percent * 100.

export function statsigBucket(salt: string, unitId: string): bigint {
  return createHash("sha256").update(`${salt}.${unitId}`).digest().readBigUInt64BE(0) % 10000n;
}

export function statsigPasses(salt: string, unitId: string, passPercentage: number): boolean {
  return statsigBucket(salt, unitId) < BigInt(Math.round(passPercentage * 100));
}
