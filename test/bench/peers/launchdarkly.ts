import { createHash } from "node:crypto";

// LaunchDarkly's percentage rollout bucketing (server SDKs): SHA-1 of `${flagKey}.${salt}.${userKey}`
// in hex, the first 15 hex digits as an integer, divided by 0xFFFFFFFFFFFFFFF; the unit is in when
// that bucket is below the rollout's weight (here a fraction 0..1).

// The SDKs divide by 0xFFFFFFFFFFFFFFF; as a double that constant is exactly 2^60.
const LONG_SCALE = 2 ** 60;

export function launchdarklyBucket(flagKey: string, salt: string, userKey: string): number {
  const hex = createHash("sha1").update(`${flagKey}.${salt}.${userKey}`).digest("hex").substring(0, 15);
  return Number.parseInt(hex, 16) / LONG_SCALE;
}

export function launchdarklyInRollout(
  flagKey: string,
  salt: string,
  userKey: string,
  weight: number,
): boolean {
  return launchdarklyBucket(flagKey, salt, userKey) < weight;
}
