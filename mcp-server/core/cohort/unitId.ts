import { InvalidInputError } from "../errors.js";

/** Longest unit id accepted, in UTF-8 bytes of its NFC form (the bytes that are hashed). */
export const MAX_UNIT_ID_BYTES = 512;

// Canonically equivalent input can be longer than its NFC form (a base letter plus up to three
// combining marks compose into one code point, and a code point takes at most two UTF-16 units), so
// anything beyond 8 units per allowed byte is too long whatever it normalises to. Checking this
// before normalising keeps a hostile megabyte-long id from costing a full normalisation.
const MAX_RAW_UNIT_ID_LENGTH = 8 * MAX_UNIT_ID_BYTES;

/**
 * Validates a unit id and returns the form that is hashed: Unicode NFC. Throws InvalidInputError
 * naming `field` when the id is empty, longer than 512 UTF-8 bytes, or not clean text.
 *
 * Almost every real id (numbers, UUIDs, e-mail addresses) is printable ASCII, which is already NFC;
 * one charCode pass proves that, and only other ids pay for `normalize`.
 */
export function normalizeUnitId(unitId: unknown, field = "unit_id"): string {
  if (typeof unitId !== "string") {
    throw new InvalidInputError(field, `${field} must be a string, got ${describe(unitId)}`);
  }
  const length = unitId.length;
  let i = 0;
  while (i < length) {
    const code = unitId.charCodeAt(i);
    if (code < 0x20 || code > 0x7e) break;
    i++;
  }
  if (i === length) {
    if (length === 0) {
      throw new InvalidInputError(
        field,
        `${field} must not be empty: pass the stable key that routing sticks to (user, account, device or session id)`,
      );
    }
    if (length > MAX_UNIT_ID_BYTES) throw tooLong(field, `${length} UTF-8 bytes`);
    return unitId;
  }
  return normalizeNonAscii(unitId, i, field);
}

function normalizeNonAscii(unitId: string, firstNonAscii: number, field: string): string {
  const length = unitId.length;
  if (length > MAX_RAW_UNIT_ID_LENGTH) throw tooLong(field, `${length} UTF-16 code units`);
  // One pass: reject control characters and lone surrogates, count UTF-8 bytes, and notice whether
  // the text is plainly NFC (see PLAIN_NFC), in which case `normalize` is skipped.
  let bytes = firstNonAscii;
  let plainNfc = true;
  for (let i = firstNonAscii; i < length; i++) {
    const code = unitId.charCodeAt(i);
    if (code < 0x80) {
      if (code < 0x20 || code === 0x7f) throw controlCharacter(field, code, i);
      bytes += 1;
    } else if (code < 0x800) {
      if (code <= 0x9f) throw controlCharacter(field, code, i);
      if (code >= 0x300) plainNfc = false;
      bytes += 2;
    } else if (code >= 0xd800 && code <= 0xdfff) {
      const next = i + 1 < length ? unitId.charCodeAt(i + 1) : 0;
      if (code > 0xdbff || next < 0xdc00 || next > 0xdfff) throw loneSurrogate(field, code, i);
      plainNfc = false;
      bytes += 4;
      i++;
    } else {
      if (!((code >= 0x4e00 && code <= 0x9fff) || (code >= 0xac00 && code <= 0xd7a3))) plainNfc = false;
      bytes += 3;
    }
  }
  if (plainNfc) {
    if (bytes > MAX_UNIT_ID_BYTES) throw tooLong(field, `${bytes} UTF-8 bytes`);
    return unitId;
  }
  const nfc = unitId.normalize("NFC");
  const nfcBytes = utf8ByteLength(nfc);
  if (nfcBytes > MAX_UNIT_ID_BYTES) throw tooLong(field, `${nfcBytes} UTF-8 bytes after NFC normalisation`);
  return nfc;
}

// PLAIN_NFC: code units below U+0300 (Basic Latin to Latin Extended-B and IPA), CJK unified
// ideographs (U+4E00-U+9FFF) and precomposed Hangul syllables (U+AC00-U+D7A3) are all stable under
// NFC and never compose with a neighbour (NFC_Quick_Check=Yes, canonical combining class 0). Text
// made only of them is already NFC (the quick check of UAX #15), so names like "José" or "用户" skip
// `normalize`. Anything else, including every combining mark, goes through `normalize`.

/**
 * Rejects control characters (C0, DEL, C1) and lone UTF-16 surrogates from index `from` on. A lone
 * surrogate has no UTF-8 encoding: encoders silently substitute U+FFFD, so two different ids would
 * share a bucket and other languages would disagree on the bytes.
 */
export function checkCleanText(text: string, from: number, field: string): void {
  const length = text.length;
  for (let i = from; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) {
      throw controlCharacter(field, code, i);
    }
    if (code >= 0xd800 && code <= 0xdfff) {
      const next = i + 1 < length ? text.charCodeAt(i + 1) : 0;
      if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      throw loneSurrogate(field, code, i);
    }
  }
}

/** UTF-8 length of well-formed UTF-16 text, without allocating the encoding. */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < length) {
      // A surrogate pair is one code point of four bytes.
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

function controlCharacter(field: string, code: number, index: number): InvalidInputError {
  return new InvalidInputError(
    field,
    `${field} contains the control character ${codePointLabel(code)} at index ${index}: strip it, or encode binary ids as hex or base64`,
  );
}

function loneSurrogate(field: string, code: number, index: number): InvalidInputError {
  return new InvalidInputError(
    field,
    `${field} contains a lone UTF-16 surrogate ${codePointLabel(code)} at index ${index}, which is not valid Unicode: pass well-formed text`,
  );
}

function tooLong(field: string, size: string): InvalidInputError {
  return new InvalidInputError(
    field,
    `${field} is ${size}; the limit is ${MAX_UNIT_ID_BYTES} UTF-8 bytes in NFC form: use a shorter stable key, or a digest of it (e.g. hex SHA-256)`,
  );
}

function codePointLabel(code: number): string {
  return `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : typeof value;
}
