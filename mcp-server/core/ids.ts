import { z } from "zod";

// Identifiers reach SQL (always as parameters) and PromQL (escaped), and show up in URLs and logs:
// a small, boring alphabet keeps every one of those places simple.
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
export const SERIES_PATTERN = /^[A-Za-z_][A-Za-z0-9_.:]{0,127}$/;

export const deploymentIdSchema = z
  .string()
  .regex(
    ID_PATTERN,
    "use 1-128 characters: letters, digits, '.', '_', ':' or '-', starting with a letter or digit",
  )
  .meta({ description: "Deployment id, e.g. checkout-2026-05-26.1" });

export const seriesNameSchema = z
  .string()
  .regex(
    SERIES_PATTERN,
    "use 1-128 characters: letters, digits, '_', '.' or ':', starting with a letter or '_'",
  );

export const dimNameSchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, "use 1-64 letters, digits or '_', starting with a letter or '_'");
