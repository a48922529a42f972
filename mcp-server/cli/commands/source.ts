import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { InvalidInputError } from "../../core/errors.js";
import { sourceCheck, sourceCheckInput } from "../../operations/source-check.js";
import { sourceExplore } from "../../operations/source-explore.js";
import { type Command, flag, str } from "../command.js";
import { EXIT, paint, printJson, table, UsageError } from "../output.js";
import { parseVars } from "./start.js";

/** The source did not answer: safe to retry (exit 5). */
const UNREACHABLE = 5;

const readPolicyFile = (p: string) => readFileSync(resolve(p), "utf8");

export const sourceCheckCommand: Command = {
  name: "source check",
  usage: `canary source check --policy FILE [--deployment ID] [--version V] [--var NAME=VALUE ...] [--at TIME] [--json]

Runs every query of the policy's source for every cohort over the last hour (ending at --at, or
now) and shows how many series each returned and a sample value. --deployment, --version and --var
fill {{deployment}}, {{version}} and {{vars.NAME}} as canary start would.
Credentials come from the variables the policy names (token_env, basic_auth_env); they are never
printed.
Exit 0 when every query returns exactly one series, 2 when a query returns nothing, too many
series or an error (or the policy is invalid), 5 when the source does not answer (safe to retry).`,
  options: {
    policy: { type: "string" },
    deployment: { type: "string" },
    version: { type: "string" },
    var: { type: "string", multiple: true },
    at: { type: "string" },
    json: { type: "boolean" },
  },
  async run(args) {
    const policy = str(args, "policy");
    if (!policy) throw new UsageError("--policy FILE is required");
    const input = sourceCheckInput.parse({
      policy,
      deployment_id: str(args, "deployment"),
      version: str(args, "version"),
      vars: parseVars(args.values.var),
      at: str(args, "at"),
    });
    const out = await sourceCheck({ readPolicyFile }, input);
    if (flag(args, "json")) printJson(out);
    else {
      process.stdout.write(`${out.url}  ${out.from} .. ${out.to}\n`);
      process.stdout.write(
        `${table(
          ["series", "cohort", "status", "series", "sample", "note"],
          out.checks.map((c) => [c.series, c.cohort, c.status, c.series_count, c.sample, c.message]),
        )}\n`,
      );
      process.stdout.write(
        out.ok ? `${paint("green", "ok")}\n` : `${paint("red", `${out.problems.length} problem(s)`)}\n`,
      );
    }
    return out.unreachable ? UNREACHABLE : out.ok ? EXIT.ok : EXIT.badInput;
  },
};

export const sourceExploreCommand: Command = {
  name: "source explore",
  usage: `canary source explore [--policy DRAFT | --url URL] [--service S] [--limit N] [--at TIME] [--json]

Asks the Prometheus named in a draft policy (source.prometheus; the draft need not validate yet)
or at --url which series carry the service's name in a common label (service, app, job, workload,
...) over the last hour: metric names with type and help, their labels, label values, and labels
that may tell canary from control. Read-only and bounded (--limit, default 50).
Exit 0, 2 for bad input, 5 when the source does not answer.`,
  options: {
    policy: { type: "string" },
    url: { type: "string" },
    service: { type: "string" },
    limit: { type: "string" },
    at: { type: "string" },
    json: { type: "boolean" },
  },
  async run(args) {
    const limit = str(args, "limit");
    if (limit !== undefined && !/^\d+$/.test(limit)) throw new UsageError("--limit takes a whole number");
    const input = {
      ...(str(args, "policy") ? { policy: str(args, "policy") } : {}),
      ...(str(args, "url") ? { url: str(args, "url") } : {}),
      ...(str(args, "service") ? { service: str(args, "service") } : {}),
      ...(limit ? { limit: Number(limit) } : {}),
      ...(str(args, "at") ? { at: str(args, "at") } : {}),
    };
    try {
      const out = await sourceExplore({ readPolicyFile }, input);
      if (flag(args, "json")) printJson(out);
      else {
        process.stdout.write(
          `${out.url}: ${out.metrics.length} metric(s) for ${out.service} (matched by ${out.matched_by.join(", ") || "nothing"})\n`,
        );
        process.stdout.write(
          `${table(
            ["metric", "type", "series", "labels"],
            out.metrics.map((m) => [m.name, m.type, m.series, m.labels.join(",")]),
          )}\n`,
        );
        if (out.cohort_label_candidates.length)
          process.stdout.write(`cohort label candidates: ${out.cohort_label_candidates.join(", ")}\n`);
      }
      return EXIT.ok;
    } catch (error) {
      if (error instanceof InvalidInputError && /cannot connect|no answer within/.test(error.message)) {
        process.stderr.write(`canary: ${error.field}: ${error.message}\n`);
        return UNREACHABLE;
      }
      throw error;
    }
  },
};
