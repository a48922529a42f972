import { z } from "zod";
import { parseDuration } from "../duration.js";

// Apart from duration.ts so that code which only reads durations (a status window) loads no zod.
export const durationSchema = z
  .string()
  .regex(/^(\d+h)?(\d+m)?(\d+s)?$/, 'expected a duration such as "30s", "15m", "1h" or "1h30m"')
  .refine((s) => parseDuration(s) !== undefined, {
    message: 'expected a positive duration such as "30s", "15m", "1h" or "1h30m"',
  })
  .meta({ description: 'A positive duration: "30s", "15m", "1h", "1h30m".' });
