// Seeded randomness for the judge benchmark. Every draw comes from a stream named by what it is
// for (replicate, minute, cohort, traffic share, effect), so two judges that see the same minute at
// the same share see the same counts (common random numbers), and a run is reproducible from its seed.
//
// Generators:
// - xoshiro128** (Blackman and Vigna) for uniforms, seeded through splitmix32 from a 32-bit key hash.
// - Poisson: inversion by sequential search for means below 10 (exact, a handful of uniforms);
//   PTRS, Hormann's transformed rejection with squeeze (1993), above (exact, about 1.2 uniform pairs).
// - Gamma: Marsaglia and Tsang (2000), with the u^(1/a) boost for shapes below 1.
// - Normal: Marsaglia's polar method.
// - Negative binomial (sums of geometric retries): a Gamma-Poisson mixture.
// No binomial sampler is needed: a minute's requests are Poisson, a Poisson count split over
// latency buckets is a set of independent Poisson counts (thinning), and errors given the requests
// are drawn as Poisson(n p) capped at n, which is the benchmark's stated error model.

/** 32-bit mixing of a list of integers into one seed (murmur3's finaliser on a running hash). */
export function hashKey(parts: readonly number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    // Split doubles that are not 32-bit integers (e.g. 0.5% shares) into two words.
    const lo = p | 0;
    const hi = Math.floor(p / 4294967296) | 0;
    const frac = Math.round((p - Math.floor(p)) * 1e6) | 0;
    for (const w of [lo, hi, frac]) {
      h = Math.imul(h ^ w, 0x01000193);
      h ^= h >>> 15;
      h = Math.imul(h, 0x85ebca6b);
      h ^= h >>> 13;
      h = Math.imul(h, 0xc2b2ae35);
      h ^= h >>> 16;
    }
  }
  return h >>> 0;
}

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

const LOG_FACTORIAL_SMALL: number[] = (() => {
  const t = [0];
  for (let k = 1; k < 256; k++) t.push(t[k - 1]! + Math.log(k));
  return t;
})();

/** log(k!) exactly from a table below 256, Stirling's series above (error below 1e-13). */
export function logFactorial(k: number): number {
  if (k < 256) return LOG_FACTORIAL_SMALL[k]!;
  const n = k + 1;
  const inv = 1 / n;
  const inv2 = inv * inv;
  return (
    (n - 0.5) * Math.log(n) -
    n +
    0.5 * Math.log(2 * Math.PI) +
    inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260)))
  );
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | undefined;

  constructor(seed: number) {
    const st = { s: seed | 0 };
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st);
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  static forKey(parts: readonly number[]): Rng {
    return new Rng(hashKey(parts));
  }

  /** xoshiro128** next 32-bit output. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform on [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextU32() >>> 5;
    const lo = this.nextU32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform on (0, 1): safe under a logarithm. */
  uniformOpen(): number {
    let u = this.uniform();
    while (u === 0) u = this.uniform();
    return u;
  }

  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    for (;;) {
      const u = 2 * this.uniform() - 1;
      const v = 2 * this.uniform() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) {
        const f = Math.sqrt((-2 * Math.log(s)) / s);
        this.spare = v * f;
        return u * f;
      }
    }
  }

  poisson(mean: number): number {
    if (!(mean > 0)) return 0;
    if (mean < 10) {
      // Inversion: walk the CDF from 0.
      let k = 0;
      let p = Math.exp(-mean);
      let cdf = p;
      const u = this.uniform();
      while (u > cdf && k < 1000) {
        k++;
        p *= mean / k;
        cdf += p;
      }
      return k;
    }
    return this.poissonPtrs(mean);
  }

  private poissonPtrs(mean: number): number {
    const smu = Math.sqrt(mean);
    const b = 0.931 + 2.53 * smu;
    const a = -0.059 + 0.02483 * b;
    const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
    const vr = 0.9277 - 3.6224 / (b - 2);
    const logMean = Math.log(mean);
    for (;;) {
      const u = this.uniform() - 0.5;
      const v = this.uniformOpen();
      const us = 0.5 - Math.abs(u);
      const k = Math.floor(((2 * a) / us + b) * u + mean + 0.43);
      if (us >= 0.07 && v <= vr) return k;
      if (k < 0 || (us < 0.013 && v > us)) continue;
      if (
        Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b) <=
        -mean + k * logMean - logFactorial(k)
      )
        return k;
    }
  }

  /** Gamma(shape, scale). */
  gamma(shape: number, scale: number): number {
    if (shape < 1) {
      const boost = this.uniformOpen() ** (1 / shape);
      return this.gamma(shape + 1, scale) * boost;
    }
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.uniformOpen();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v * scale;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v * scale;
    }
  }

  /**
   * Sum of `count` independent geometric variables on {0, 1, ...} with the given mean: a negative
   * binomial, drawn as Poisson(Gamma(count, mean)).
   */
  geometricSum(count: number, mean: number): number {
    if (count <= 0 || mean <= 0) return 0;
    return this.poisson(this.gamma(count, mean));
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
