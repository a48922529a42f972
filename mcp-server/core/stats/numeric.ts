// biome-ignore-all lint/correctness/noPrecisionLoss: the published coefficients below are kept digit for digit
// Numerical building blocks for the judge. Everything here is a pure function of its arguments.
// simple-statistics covers descriptive work; the tails of distributions need more care than it
// takes (its normal CDF is a table lookup), so the few functions the tests rely on live here,
// each from a published algorithm and pinned to reference values in the unit tests.

const LOG_SQRT_2PI = 0.9189385332046728; // log(sqrt(2 pi))
const LOG_2PI = 1.8378770664093453;
const SQRT1_2 = Math.SQRT1_2;

// Lanczos approximation, g = 7, n = 9 (Godfrey's coefficients): about 1e-15 relative error for x >= 0.5.
const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
] as const;

/** log |Gamma(x)|; Lanczos for x >= 0.5, the reflection formula below. */
export function logGamma(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x <= 0 && Number.isInteger(x)) return Number.POSITIVE_INFINITY;
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) a += LANCZOS[i]! / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return LOG_SQRT_2PI + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** log of the binomial coefficient C(n, k) for real n >= k >= 0. */
export function logChoose(n: number, k: number): number {
  if (k < 0 || k > n) return Number.NEGATIVE_INFINITY;
  if (k === 0 || k === n) return 0;
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
}

/** log(exp(a) + exp(b)) without overflow. */
export function logAddExp(a: number, b: number): number {
  if (a === Number.NEGATIVE_INFINITY) return b;
  if (b === Number.NEGATIVE_INFINITY) return a;
  return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
}

/** log(sum exp(v_i)) over the first `length` values (all by default). */
export function logSumExp(values: ArrayLike<number>, length = values.length): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < length; i++) {
    const v = values[i]!;
    if (v > max) max = v;
  }
  if (max === Number.NEGATIVE_INFINITY || max === Number.POSITIVE_INFINITY) return max;
  let sum = 0;
  for (let i = 0; i < length; i++) sum += Math.exp(values[i]! - max);
  return max + Math.log(sum);
}

/** log(1 - exp(x)) for x <= 0, accurate at both ends (Maechler 2012, "Accurately computing log(1 - exp(-|a|))"). */
export function log1mExp(x: number): number {
  if (x > 0) return Number.NaN;
  return x > -Math.LN2 ? Math.log(-Math.expm1(x)) : Math.log1p(-Math.exp(x));
}

// --- Binomial probabilities (Loader 2000, "Fast and accurate computation of binomial probabilities") ---

/** log(n!) - log(sqrt(2 pi n) (n/e)^n): the error of Stirling's formula. Integers or halves. */
function stirlingError(n: number): number {
  if (n <= 15) return logGamma(n + 1) - (n + 0.5) * Math.log(n) + n - LOG_SQRT_2PI;
  const S0 = 1 / 12;
  const S1 = 1 / 360;
  const S2 = 1 / 1260;
  const S3 = 1 / 1680;
  const S4 = 1 / 1188;
  const nn = n * n;
  if (n > 500) return (S0 - S1 / nn) / n;
  if (n > 80) return (S0 - (S1 - S2 / nn) / nn) / n;
  if (n > 35) return (S0 - (S1 - (S2 - S3 / nn) / nn) / nn) / n;
  return (S0 - (S1 - (S2 - (S3 - S4 / nn) / nn) / nn) / nn) / n;
}

/** Deviance term x log(x/np) + np - x, computed without cancellation when x is near np. */
function devianceTerm(x: number, np: number): number {
  if (Math.abs(x - np) < 0.1 * (x + np)) {
    let v = (x - np) / (x + np);
    let s = (x - np) * v;
    let ej = 2 * x * v;
    v *= v;
    for (let j = 1; j < 1000; j++) {
      ej *= v;
      const s1 = s + ej / (2 * j + 1);
      if (s1 === s) return s1;
      s = s1;
    }
    return s;
  }
  return x * Math.log(x / np) + np - x;
}

/** log P(X = k) for X ~ Binomial(n, p); integer k and n. */
export function logBinomialPmf(k: number, n: number, p: number): number {
  if (k < 0 || k > n || !Number.isInteger(k) || !Number.isInteger(n)) return Number.NEGATIVE_INFINITY;
  if (p <= 0) return k === 0 ? 0 : Number.NEGATIVE_INFINITY;
  if (p >= 1) return k === n ? 0 : Number.NEGATIVE_INFINITY;
  const q = 1 - p;
  if (k === 0) return n * Math.log1p(-p);
  if (k === n) return n * Math.log(p);
  const lc =
    stirlingError(n) -
    stirlingError(k) -
    stirlingError(n - k) -
    devianceTerm(k, n * p) -
    devianceTerm(n - k, n * q);
  const lf = LOG_2PI + Math.log(k) + Math.log1p(-k / n);
  return lc - 0.5 * lf;
}

/**
 * Continued fraction of the incomplete beta function, modified Lentz's method (Numerical Recipes,
 * 3rd ed., 6.4). Converges quickly for x < (a + 1) / (a + b + 2).
 */
function incompleteBetaFraction(a: number, b: number, x: number): number {
  const TINY = 1e-300;
  const EPS = 1e-16;
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  const maxIterations = 10_000 + Math.ceil(20 * Math.sqrt(Math.max(a, b)));
  for (let m = 1; m <= maxIterations; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return h;
}

/** Regularized incomplete beta I_x(a, b) for a, b > 0. */
export function regularizedIncompleteBeta(a: number, b: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const logFront = a * Math.log(x) + b * Math.log1p(-x) - (logGamma(a) + logGamma(b) - logGamma(a + b));
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(logFront) * incompleteBetaFraction(a, b, x)) / a;
  return 1 - (Math.exp(logFront) * incompleteBetaFraction(b, a, 1 - x)) / b;
}

/**
 * P(X >= k) for X ~ Binomial(n, p) = I_p(k, n - k + 1). The prefactor comes from the accurate
 * pmf (p^k (1-p)^(n-k+1) / (k B(k, n-k+1)) = P(X = k) (1 - p)), so large n keeps full precision.
 */
export function binomialUpperTail(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  const a = k;
  const b = n - k + 1;
  const front = Math.exp(logBinomialPmf(k, n, p)) * (1 - p); // = x^a (1-x)^b / (a B(a, b))
  if (p < (a + 1) / (a + b + 2)) return front * incompleteBetaFraction(a, b, p);
  // The other side of the fraction: I_p(a, b) = 1 - I_{1-p}(b, a); its prefactor is front * a / b.
  return 1 - ((front * a) / b) * incompleteBetaFraction(b, a, 1 - p);
}

/** P(X <= k) for X ~ Binomial(n, p), computed on the side that keeps the small tail precise. */
export function binomialLowerTail(k: number, n: number, p: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  // P(X <= k) = P(n - X >= n - k) with n - X ~ Binomial(n, 1 - p).
  return binomialUpperTail(n - k, n, 1 - p);
}

/** Smallest k with P(X <= k) >= prob for X ~ Binomial(n, p). */
export function binomialQuantile(prob: number, n: number, p: number): number {
  if (prob <= 0) return 0;
  if (prob >= 1 || p >= 1) return n;
  if (p <= 0) return 0;
  // Cornish-Fisher start, then exact steps; a handful of evaluations in practice.
  const mean = n * p;
  const sd = Math.sqrt(n * p * (1 - p));
  const z = normalQuantile(prob);
  let k = Math.floor(mean + sd * z + ((z * z - 1) * (1 - 2 * p)) / 6 + 0.5);
  k = Math.min(n, Math.max(0, k));
  while (k < n && binomialLowerTail(k, n, p) < prob) k++;
  while (k > 0 && binomialLowerTail(k - 1, n, p) >= prob) k--;
  return k;
}

// --- Normal distribution ---
// erfc after W. J. Cody, "Rational Chebyshev approximations for the error function", Math. Comp.
// 23 (1969), as in his CALERF routine: relative error near 1e-16, also far in the tails.

const ERF_A = [
  3.1611237438705656, 113.86415415105016, 377.485237685302021, 3209.37758913846947, 0.185777706184603153,
] as const;
const ERF_B = [23.6012909523441209, 244.024637934444173, 1282.61652607737228, 2844.23683343917062] as const;
const ERF_C = [
  0.564188496988670089, 8.88314979438837594, 66.1191906371416295, 298.635138197400131, 881.95222124176909,
  1712.04761263407058, 2051.07837782607147, 1230.33935479799725, 2.15311535474403846e-8,
] as const;
const ERF_D = [
  15.7449261107098347, 117.693950891312499, 537.181101862009858, 1621.38957456669019, 3290.79923573345963,
  4362.61909014324716, 3439.36767414372164, 1230.33935480374942,
] as const;
const ERF_P = [
  0.305326634961232344, 0.360344899949804439, 0.125781726111229246, 0.0160837851487422766,
  6.58749161529837803e-4, 0.0163153871373020978,
] as const;
const ERF_Q = [
  2.56852019228982242, 1.87295284992346047, 0.527905102951428412, 0.0605183413124413191,
  0.00233520497626869185,
] as const;
const INV_SQRT_PI = 0.56418958354775628695;

/** exp(-x^2) computed as exp(-xr^2) exp(-(x - xr)(x + xr)) with xr = x rounded to 1/16 (Cody's trick). */
function expMinusSquare(y: number): number {
  const ysq = Math.trunc(y * 16) / 16;
  const del = (y - ysq) * (y + ysq);
  return Math.exp(-ysq * ysq) * Math.exp(-del);
}

/** erfc(y) for y >= 0, or the scaled exp(y^2) erfc(y) when `scaled`. */
function erfcNonNegative(y: number, scaled: boolean): number {
  if (y <= 0.46875) {
    const ysq = y > 1.11e-16 ? y * y : 0;
    let xnum = ERF_A[4] * ysq;
    let xden = ysq;
    for (let i = 0; i < 3; i++) {
      xnum = (xnum + ERF_A[i]!) * ysq;
      xden = (xden + ERF_B[i]!) * ysq;
    }
    const erfc = 1 - (y * (xnum + ERF_A[3])) / (xden + ERF_B[3]);
    return scaled ? Math.exp(ysq) * erfc : erfc;
  }
  if (y <= 4) {
    let xnum = ERF_C[8] * y;
    let xden = y;
    for (let i = 0; i < 7; i++) {
      xnum = (xnum + ERF_C[i]!) * y;
      xden = (xden + ERF_D[i]!) * y;
    }
    const r = (xnum + ERF_C[7]) / (xden + ERF_D[7]);
    return scaled ? r : expMinusSquare(y) * r;
  }
  if (!scaled && y >= 26.543) return 0;
  if (scaled && y >= 6.71e7) return INV_SQRT_PI / y;
  const ysq = 1 / (y * y);
  let xnum = ERF_P[5] * ysq;
  let xden = ysq;
  for (let i = 0; i < 4; i++) {
    xnum = (xnum + ERF_P[i]!) * ysq;
    xden = (xden + ERF_Q[i]!) * ysq;
  }
  let r = (ysq * (xnum + ERF_P[4])) / (xden + ERF_Q[4]);
  r = (INV_SQRT_PI - r) / y;
  return scaled ? r : expMinusSquare(y) * r;
}

/** Complementary error function. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  return x >= 0 ? erfcNonNegative(x, false) : 2 - erfcNonNegative(-x, false);
}

/** Scaled complementary error function exp(x^2) erfc(x), finite for large positive x. */
export function erfcx(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x >= 0) return erfcNonNegative(x, true);
  if (x < -26.628) return Number.POSITIVE_INFINITY;
  const ysq = Math.trunc(x * 16) / 16;
  const del = (x - ysq) * (x + ysq);
  const e = Math.exp(ysq * ysq) * Math.exp(del);
  return e + e - erfcNonNegative(-x, true);
}

/** Standard normal CDF Phi(x), accurate in both tails. */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x * SQRT1_2);
}

/** Standard normal upper tail 1 - Phi(x). */
export function normalSurvival(x: number): number {
  return 0.5 * erfc(x * SQRT1_2);
}

/** log Phi(x), finite far into the lower tail. */
export function logNormalCdf(x: number): number {
  if (x > 0) return Math.log1p(-0.5 * erfc(x * SQRT1_2));
  const y = -x * SQRT1_2;
  return Math.log(0.5 * erfcx(y)) - y * y;
}

/**
 * log(Phi(z)) + z^2 / 2: the combination the one-sided normal mixture needs; for z < 0 it stays
 * finite where Phi(z) alone underflows.
 */
export function logNormalCdfPlusHalfSquare(z: number): number {
  if (z > 0) return Math.log1p(-0.5 * erfc(z * SQRT1_2)) + 0.5 * z * z;
  return Math.log(0.5 * erfcx(-z * SQRT1_2));
}

// Wichura, "Algorithm AS 241: The percentage points of the normal distribution", Applied
// Statistics 37 (1988), PPND16: about 1e-16 relative accuracy.
const AS241_A = [
  3.387132872796366608, 133.14166789178437745, 1971.5909503065514427, 13731.693765509461125,
  45921.953931549871457, 67265.770927008700853, 33430.575583588128105, 2509.0809287301226727,
] as const;
const AS241_B = [
  1, 42.313330701600911252, 687.1870074920579083, 5394.1960214247511077, 21213.794301586595867,
  39307.89580009271061, 28729.085735721942674, 5226.495278852854561,
] as const;
const AS241_C = [
  1.42343711074968357734, 4.6303378461565452959, 5.7694972214606914055, 3.64784832476320460504,
  1.27045825245236838258, 0.24178072517745061177, 0.0227238449892691845833, 7.7454501427834140764e-4,
] as const;
const AS241_D = [
  1, 2.05319162663775882187, 1.6763848301838038494, 0.68976733498510000455, 0.14810397642748007459,
  0.0151986665636164571966, 5.475938084995344946e-4, 1.05075007164441684324e-9,
] as const;
const AS241_E = [
  6.6579046435011037772, 5.4637849111641143699, 1.7848265399172913358, 0.29656057182850489123,
  0.026532189526576123093, 0.0012426609473880784386, 2.71155556874348757815e-5, 2.01033439929228813265e-7,
] as const;
const AS241_F = [
  1, 0.59983220655588793769, 0.13692988092273580531, 0.0148753612908506148525, 7.868691311456132591e-4,
  1.8463183175100546818e-5, 1.4215117583164458887e-7, 2.04426310338993978564e-15,
] as const;

function horner(coefficients: readonly number[], x: number): number {
  let v = coefficients[coefficients.length - 1]!;
  for (let i = coefficients.length - 2; i >= 0; i--) v = v * x + coefficients[i]!;
  return v;
}

/** Standard normal quantile Phi^-1(p) (Wichura AS 241). */
export function normalQuantile(p: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return Number.NaN;
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (q * horner(AS241_A, r)) / horner(AS241_B, r);
  }
  let r = q < 0 ? p : 1 - p;
  r = Math.sqrt(-Math.log(r));
  let value: number;
  if (r <= 5) {
    r -= 1.6;
    value = horner(AS241_C, r) / horner(AS241_D, r);
  } else {
    r -= 5;
    value = horner(AS241_E, r) / horner(AS241_F, r);
  }
  return q < 0 ? -value : value;
}
