#!/usr/bin/env node
// Writes fixtures/cohort-vectors.json: test vectors for the cohort assignment, so a router in any
// language can check that it puts every unit in the same bucket as canary-pilot does.
//
//   node scripts/cohort-vectors.mjs           regenerate the file
//   node scripts/cohort-vectors.mjs --check   exit 1 if the committed file is not what this writes
//
// Buckets are computed with the XXH32 and UTF-8 encoder below, written from the specifications
// and independent of the product's hashing (xxhash-wasm, TextEncoder), so the test that checks the
// product against this file cross-checks two implementations. Output is deterministic: a fixed
// pseudo-random generator, no clock.

import { readFileSync, writeFileSync } from "node:fs";

const OUTPUT = new URL("../fixtures/cohort-vectors.json", import.meta.url);
const BUCKETS = 10_000;
const MAX_UNIT_ID_BYTES = 512;

// ---- XXH32 (https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md) ----------------------

const PRIME1 = 0x9e3779b1;
const PRIME2 = 0x85ebca77;
const PRIME3 = 0xc2b2ae3d;
const PRIME4 = 0x27d4eb2f;
const PRIME5 = 0x165667b1;

const rotl = (x, r) => ((x << r) | (x >>> (32 - r))) >>> 0;
const mul = (a, b) => Math.imul(a, b) >>> 0;
const add = (a, b) => (a + b) >>> 0;
const read32 = (bytes, i) =>
  (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24)) >>> 0;
const round = (acc, lane) => mul(rotl(add(acc, mul(lane, PRIME2)), 13), PRIME1);

/** XXH32 of a byte array with a 32-bit seed, as an unsigned integer. */
export function xxh32(bytes, seed) {
  const length = bytes.length;
  let i = 0;
  let h;
  if (length >= 16) {
    let v1 = add(add(seed, PRIME1), PRIME2);
    let v2 = add(seed, PRIME2);
    let v3 = seed >>> 0;
    let v4 = (seed - PRIME1) >>> 0;
    for (; i + 16 <= length; i += 16) {
      v1 = round(v1, read32(bytes, i));
      v2 = round(v2, read32(bytes, i + 4));
      v3 = round(v3, read32(bytes, i + 8));
      v4 = round(v4, read32(bytes, i + 12));
    }
    h = add(add(rotl(v1, 1), rotl(v2, 7)), add(rotl(v3, 12), rotl(v4, 18)));
  } else {
    h = add(seed, PRIME5);
  }
  h = add(h, length);
  for (; i + 4 <= length; i += 4) h = mul(rotl(add(h, mul(read32(bytes, i), PRIME3)), 17), PRIME4);
  for (; i < length; i++) h = mul(rotl(add(h, mul(bytes[i], PRIME5)), 11), PRIME1);
  h = mul(h ^ (h >>> 15), PRIME2);
  h = mul(h ^ (h >>> 13), PRIME3);
  return (h ^ (h >>> 16)) >>> 0;
}

// ---- UTF-8 (RFC 3629), from code points -----------------------------------------------------------

export function utf8(text) {
  const out = [];
  for (const char of text) {
    const cp = char.codePointAt(0);
    if (cp >= 0xd800 && cp <= 0xdfff) throw new Error(`lone surrogate in ${JSON.stringify(text)}`);
    if (cp < 0x80) out.push(cp);
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 63));
    else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
    else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
  }
  return Uint8Array.from(out);
}

// Known answers from the reference implementation; a wrong port must not write vectors.
const KNOWN = [
  ["", 0, 0x02cc5d05],
  ["", 1, 0x0b2cb792],
  ["a", 0, 0x550d7456],
  ["abc", 0, 0x32d153ff],
  ["Nobody inspects the spammish repetition", 0, 0xe2293b2f],
];
for (const [text, seed, expected] of KNOWN) {
  const got = xxh32(utf8(text), seed);
  if (got !== expected)
    throw new Error(
      `XXH32(${JSON.stringify(text)}, ${seed}) = ${got.toString(16)}, expected ${expected.toString(16)}`,
    );
}

// ---- The definition -------------------------------------------------------------------------------

const seedOf = (deploymentId) => xxh32(utf8(deploymentId), 0);
const bucketOf = (deploymentId, unitId) =>
  xxh32(utf8(unitId.normalize("NFC")), seedOf(deploymentId)) % BUCKETS;
const thresholdOf = (percent) => Math.round(percent * 100);

// ---- Inputs -------------------------------------------------------------------------------------

// mulberry32: tiny, deterministic, good enough to pick ids.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(20260526);
const hex = (n) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join("");
const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-${"89ab"[Math.floor(random() * 4)]}${hex(3)}-${hex(12)}`;

const DEPLOYMENTS = [
  "checkout-2026-05-26.1",
  "search-ranking-v42",
  "payments:eu-west-1:canary",
  "a",
  "api_gateway.release-7.3.0",
  "mobile-app-ios-5.12",
];

// 0.29 and 0.57 times 100 fall just below the integer in binary floating point (28.999999999999996):
// they catch a truncated threshold.
const PERCENTS = [0, 0.01, 0.29, 0.5, 0.57, 1, 2.25, 5, 10, 25, 33.33, 50, 75, 99.99, 100];

// Same name in NFC and NFD (and other non-NFC orderings): every pair must share a bucket.
const UNICODE_NAMES = [
  "José",
  "Zoë Ångström",
  "Đặng Thị Mỹ Nhung", // Vietnamese: two combining marks on one letter
  "Ǖbung",
  "naïve-café-user",
  "한국어사용자", // Hangul syllables decompose into jamo in NFD
  "ガギグゲゴ", // kana with voiced marks
  "Ελληνικά ᾇ", // Greek with three marks on one letter
  "Ṩpecial ḉase",
  "Ωmega-Å-K", // U+2126 OHM and U+212B ANGSTROM normalise to Ω and Å in NFC
];

const EXTRA_UNICODE = [
  ["emoji", "😀"],
  ["emoji", "user-🚀-42"],
  ["emoji", "👩‍💻"], // ZWJ sequence
  ["emoji", "👍🏽"], // skin tone modifier
  ["emoji", "🇩🇪🇯🇵"], // flags
  ["emoji", "🏳️‍🌈"],
  ["cjk", "用户-123"],
  ["cjk", "ユーザー"],
  ["cjk", "사용자"],
  ["cjk", "𠜎𠜱𠝹"], // CJK Extension B, outside the BMP
  ["cjk", "張偉@例子.公司"],
  ["rtl", "مستخدم-7"],
  ["rtl", "משתמש"],
  ["rtl", "שָׁלוֹם"], // Hebrew points: combining marks that NFC reorders canonically
  ["rtl", "user\u200fمرحبا"], // with a right-to-left mark
  ["rtl", "کاربر۱۲۳"], // Persian digits
  // NFC is not NFKC: compatibility characters keep their own bucket.
  ["not_nfkc", "ﬁle"],
  ["not_nfkc", "file"],
  ["not_nfkc", "Ｕｓｅｒ１"],
  ["not_nfkc", "User1"],
  ["mixed", "Ünïcödé-ẞ-ß-İ-ı"],
  ["mixed", " leading and trailing spaces "],
  ["mixed", "ǅ-ǈ-ǋ"],
];

function nonNfcForms(name) {
  const nfc = name.normalize("NFC");
  const nfd = name.normalize("NFD");
  const forms = [["nfc", nfc]];
  if (nfd !== nfc) forms.push(["nfd", nfd]);
  // Combining marks in non-canonical order: canonically equivalent, so the same bucket.
  if (name === "Ελληνικά ᾇ") forms.push(["non_canonical_order", "Ελληνικά α\u0345\u0314\u0342"]);
  if (name === "Ωmega-Å-K") forms.push(["singletons", "\u2126mega-\u212B-\u212A"]);
  for (const [form, id] of forms) {
    if (id.normalize("NFC") !== nfc) throw new Error(`${form} form of ${name} is not canonically equivalent`);
  }
  return forms;
}

function edgeLengths() {
  const cases = [
    ["one_char", "a"],
    ["one_char", "7"],
    ["one_char", "é"],
    ["one_char", "😀"],
    ["one_char", "中"],
    ["max_bytes", "x".repeat(512)],
    ["max_bytes", "0123456789abcdef".repeat(32)],
    ["max_bytes", "é".repeat(256)], // 2-byte characters
    ["max_bytes", `${"中".repeat(170)}ab`], // 3-byte characters
    ["max_bytes", "😀".repeat(128)], // 4-byte characters
    // 768 bytes as given but 512 in NFC: the limit applies to the NFC form that is hashed.
    ["max_bytes_nfd_input", "e\u0301".repeat(256)],
    ["just_under_max", "y".repeat(511)],
    ["block_boundary", "b".repeat(15)],
    ["block_boundary", "b".repeat(16)],
    ["block_boundary", "b".repeat(17)],
    ["block_boundary", "c".repeat(31)],
    ["block_boundary", "c".repeat(32)],
    ["block_boundary", "c".repeat(33)],
  ];
  for (const [, id] of cases) {
    const bytes = utf8(id.normalize("NFC")).length;
    if (bytes > MAX_UNIT_ID_BYTES) throw new Error(`edge case too long: ${bytes} bytes`);
  }
  return cases;
}

function asciiIds(count) {
  const ids = [];
  for (let i = 0; i < count; i++) {
    switch (i % 6) {
      case 0:
        ids.push(["ascii", `user-${i}`]);
        break;
      case 1:
        ids.push(["ascii", String(1_000_000 + i * 7919)]);
        break;
      case 2:
        ids.push(["ascii", `customer${i}@example.com`]);
        break;
      case 3:
        ids.push(["ascii", `sess_${hex(24)}`]);
        break;
      case 4:
        ids.push(["ascii", `Device:${hex(4).toUpperCase()}-${i}`]);
        break;
      default:
        ids.push(["ascii", `acct/${i}/tenant~${i % 13}`]);
    }
  }
  return ids;
}

/** Ids whose bucket sits just below and at a threshold, so `<` versus `<=` and rounding show up. */
function thresholdEdges(deploymentId) {
  const wanted = new Map();
  for (const percent of [0.01, 0.29, 0.57, 2.25, 33.33, 99.99]) {
    const t = thresholdOf(percent);
    wanted.set(t - 1, percent); // just inside the canary
    wanted.set(t, percent); // first bucket outside
  }
  const found = [];
  for (let n = 0; wanted.size > 0 && n < 2_000_000; n++) {
    const id = `edge-${n}`;
    const bucket = bucketOf(deploymentId, id);
    const percent = wanted.get(bucket);
    if (percent !== undefined) {
      wanted.delete(bucket);
      found.push(["threshold_edge", id, percent]);
    }
  }
  if (wanted.size > 0) throw new Error("threshold edge search ran out");
  return found;
}

// ---- Vectors ------------------------------------------------------------------------------------

function generate() {
  const vectors = [];
  const push = (kind, deploymentId, unitId, percent) => {
    const bucket = bucketOf(deploymentId, unitId);
    vectors.push({
      kind,
      deployment_id: deploymentId,
      unit_id: unitId,
      bucket,
      percent,
      in_canary: bucket < thresholdOf(percent),
    });
  };
  let p = 0;
  const nextPercent = () => PERCENTS[p++ % PERCENTS.length];

  DEPLOYMENTS.forEach((deploymentId, d) => {
    for (const [kind, id] of asciiIds(90)) push(kind, deploymentId, id, nextPercent());
    for (let i = 0; i < 45; i++) push("uuid", deploymentId, uuid(), nextPercent());
    for (const name of UNICODE_NAMES) {
      const percent = nextPercent();
      for (const [form, id] of nonNfcForms(name)) push(`unicode_${form}`, deploymentId, id, percent);
    }
    for (const [kind, id] of EXTRA_UNICODE) push(kind, deploymentId, id, nextPercent());
    for (const [kind, id] of edgeLengths()) push(kind, deploymentId, id, nextPercent());
    for (const [kind, id, percent] of thresholdEdges(deploymentId)) push(kind, deploymentId, id, percent);
    // One unit across the whole ladder: canary membership only grows with the percent.
    const rampId = `ramp-unit-${d}`;
    for (const percent of PERCENTS) push("ramp", deploymentId, rampId, percent);
  });

  const invalid = [
    { unit_id: "", reason: "empty" },
    { unit_id: "z".repeat(513), reason: "513 UTF-8 bytes" },
    { unit_id: `${"é".repeat(256)}a`, reason: "513 UTF-8 bytes in NFC" },
    { unit_id: `${"e\u0301".repeat(256)}a`, reason: "513 UTF-8 bytes in NFC (769 as given)" },
    { unit_id: "user\u00001", reason: "control character U+0000" },
    { unit_id: "user\t1", reason: "control character U+0009" },
    { unit_id: "user\n", reason: "control character U+000A" },
    { unit_id: "user\u007f", reason: "control character U+007F" },
    { unit_id: "user\u0085", reason: "control character U+0085 (C1)" },
  ];

  return {
    definition:
      "seed = XXH32(utf8(deployment_id), 0); bucket = XXH32(utf8(nfc(unit_id)), seed) mod 10000; in_canary = bucket < round(percent * 100)",
    documentation: "fixtures/COHORT-VECTORS.md",
    generator: "scripts/cohort-vectors.mjs",
    deployments: DEPLOYMENTS.map((deploymentId) => ({
      deployment_id: deploymentId,
      seed: seedOf(deploymentId),
    })),
    vectors,
    invalid_unit_ids: invalid,
  };
}

// One vector per line (reviewable diffs), and only ASCII in the file: non-ASCII as \u escapes,
// so no editor or tool can silently re-normalise the NFD vectors into NFC.
function serialise(doc) {
  const ascii = (value) =>
    JSON.stringify(value).replace(
      /[\u007f-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
  const lines = ["{"];
  const keys = Object.keys(doc);
  keys.forEach((key, k) => {
    const value = doc[key];
    const comma = k < keys.length - 1 ? "," : "";
    if (Array.isArray(value)) {
      lines.push(`  ${ascii(key)}: [`);
      lines.push(value.map((item) => `    ${ascii(item)}`).join(",\n"));
      lines.push(`  ]${comma}`);
    } else {
      lines.push(`  ${ascii(key)}: ${ascii(value)}${comma}`);
    }
  });
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

const text = serialise(generate());
if (process.argv.includes("--check")) {
  let committed = "";
  try {
    committed = readFileSync(OUTPUT, "utf8");
  } catch {
    // Missing file: reported as out of date below.
  }
  if (committed !== text) {
    console.error("fixtures/cohort-vectors.json is out of date: run node scripts/cohort-vectors.mjs");
    process.exit(1);
  }
  console.log("fixtures/cohort-vectors.json is up to date");
} else {
  writeFileSync(OUTPUT, text);
  const count = JSON.parse(text).vectors.length;
  console.log(`wrote ${count} vectors to fixtures/cohort-vectors.json`);
}
