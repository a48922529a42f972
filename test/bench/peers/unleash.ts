// Unleash's gradual rollout (`normalizedValue`): MurmurHash3 x86 32-bit of `${groupId}:${userId}`,
// mod 100, plus 1; the unit is in when that is at most the rollout percentage. The Node SDK hashes
// with murmurhash3js, which reads each UTF-16 code unit's low byte, reproduced here.

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function murmur3x86_32(key: string, seed: number): number {
  const length = key.length;
  const tail = length & 3;
  const blocks = length - tail;
  let h1 = seed | 0;
  let i = 0;
  for (; i < blocks; i += 4) {
    let k1 =
      (key.charCodeAt(i) & 0xff) |
      ((key.charCodeAt(i + 1) & 0xff) << 8) |
      ((key.charCodeAt(i + 2) & 0xff) << 16) |
      ((key.charCodeAt(i + 3) & 0xff) << 24);
    k1 = Math.imul(k1, C1);
    k1 = (k1 << 15) | (k1 >>> 17);
    k1 = Math.imul(k1, C2);
    h1 ^= k1;
    h1 = (h1 << 13) | (h1 >>> 19);
    h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0;
  }
  // The 1-3 trailing bytes, little-endian, mixed once (the reference folds them by switch fallthrough).
  if (tail > 0) {
    let k1 = key.charCodeAt(i) & 0xff;
    if (tail > 1) k1 |= (key.charCodeAt(i + 1) & 0xff) << 8;
    if (tail > 2) k1 |= (key.charCodeAt(i + 2) & 0xff) << 16;
    k1 = Math.imul(k1, C1);
    k1 = (k1 << 15) | (k1 >>> 17);
    k1 = Math.imul(k1, C2);
    h1 ^= k1;
  }
  h1 ^= length;
  h1 ^= h1 >>> 16;
  h1 = Math.imul(h1, 0x85ebca6b);
  h1 ^= h1 >>> 13;
  h1 = Math.imul(h1, 0xc2b2ae35);
  h1 ^= h1 >>> 16;
  return h1 >>> 0;
}

/** Unleash `normalizedValue`: 1..100. */
export function unleashNormalizedValue(userId: string, groupId: string, normalizer = 100): number {
  return (murmur3x86_32(`${groupId}:${userId}`, 0) % normalizer) + 1;
}

export function unleashInRollout(groupId: string, userId: string, percentage: number): boolean {
  return percentage > 0 && unleashNormalizedValue(userId, groupId) <= percentage;
}

export { murmur3x86_32 };
