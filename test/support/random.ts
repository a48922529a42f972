import { logGamma } from "../../mcp-server/core/stats/numeric.js";

// Seeded random numbers for simulations in tests and benchmarks: the same seed gives the same
// draws on every machine, so a failing seed can be replayed.

/** mulberry32: a small, fast 32-bit generator (Tommy Ettinger); uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Random {
  private readonly next: () => number;
  private spare: number | null = null;

  constructor(seed: number) {
    this.next = mulberry32(seed);
  }

  uniform(): number {
    return this.next();
  }

  /** Standard normal (Box-Muller, both draws used). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = this.next();
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /**
   * Poisson(lambda): multiplication of uniforms below 10, else the transformed rejection method
   * PTRS of Hoermann, "The transformed rejection method for generating Poisson random variables",
   * Insurance: Mathematics and Economics 12 (1993).
   */
  poisson(lambda: number): number {
    if (!(lambda > 0)) return 0;
    if (lambda < 10) {
      const limit = Math.exp(-lambda);
      let k = 0;
      let p = this.next();
      while (p > limit) {
        k++;
        p *= this.next();
      }
      return k;
    }
    const slam = Math.sqrt(lambda);
    const loglam = Math.log(lambda);
    const b = 0.931 + 2.53 * slam;
    const a = -0.059 + 0.02483 * b;
    const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
    const vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
      const u = this.next() - 0.5;
      const v = this.next();
      const us = 0.5 - Math.abs(u);
      const k = Math.floor(((2 * a) / us + b) * u + lambda + 0.43);
      if (us >= 0.07 && v <= vr) return k;
      if (k < 0 || (us < 0.013 && v > us)) continue;
      if (
        Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b) <=
        -lambda + k * loglam - logGamma(k + 1)
      )
        return k;
    }
  }

  /**
   * Binomial(n, p): inversion when n min(p, 1-p) < 10, else BTRS of Hoermann, "The generation of
   * binomial random variates", Journal of Statistical Computation and Simulation 46 (1993).
   */
  binomial(n: number, p: number): number {
    if (n <= 0 || p <= 0) return 0;
    if (p >= 1) return n;
    if (p > 0.5) return n - this.binomial(n, 1 - p);
    const q = 1 - p;
    if (n * p < 10) {
      // Inversion by sequential search.
      const s = p / q;
      let prob = q ** n;
      let cdf = prob;
      const u = this.next();
      let k = 0;
      while (u > cdf && k < n) {
        prob *= (s * (n - k)) / (k + 1);
        k++;
        cdf += prob;
      }
      return k;
    }
    const spq = Math.sqrt(n * p * q);
    const b = 1.15 + 2.53 * spq;
    const a = -0.0873 + 0.0248 * b + 0.01 * p;
    const c = n * p + 0.5;
    const vr = 0.92 - 4.2 / b;
    const alpha = (2.83 + 5.1 / b) * spq;
    const lpq = Math.log(p / q);
    const m = Math.floor((n + 1) * p);
    const h = logGamma(m + 1) + logGamma(n - m + 1);
    for (;;) {
      const u = this.next() - 0.5;
      let v = this.next();
      const us = 0.5 - Math.abs(u);
      const k = Math.floor(((2 * a) / us + b) * u + c);
      if (k < 0 || k > n) continue;
      if (us >= 0.07 && v <= vr) return k;
      v = Math.log((v * alpha) / (a / (us * us) + b));
      if (v <= h - logGamma(k + 1) - logGamma(n - k + 1) + (k - m) * lpq) return k;
    }
  }

  /** Gamma(shape, 1) by Marsaglia & Tsang (2000). */
  gamma(shape: number): number {
    if (shape < 1) return this.gamma(shape + 1) * this.next() ** (1 / shape);
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
      const u = this.next();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  }
}
