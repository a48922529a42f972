// GrowthBook's bucketing (JS SDK `hash(seed, value, 2)`): FNV-1a 32 over UTF-16 code units, applied
// twice, the second time to the decimal string of the first hash; the unit is in a rollout of
// `coverage` (0..1) when the hash is below it.

function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    hash ^= text.charCodeAt(i);
    // Multiplication by the FNV prime 16777619, spelled as shifts as the SDK does.
    hash += (hash << 1) + (hash << 4) + (hash << 7) + (hash << 8) + (hash << 24);
  }
  return hash >>> 0;
}

/** GrowthBook hash v2: a number in [0, 1) with 4 decimals. */
export function growthbookHashV2(seed: string, value: string): number {
  return (fnv1a32(fnv1a32(seed + value).toString()) % 10000) / 10000;
}

export function growthbookInRollout(seed: string, unitId: string, coverage: number): boolean {
  return growthbookHashV2(seed, unitId) < coverage;
}
