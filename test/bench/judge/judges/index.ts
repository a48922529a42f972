import { flaggerJudge } from "./flagger.js";
import { kayentaJudge } from "./kayenta.js";
import { oracleJudge } from "./oracle.js";
import { ourJudge, ourPluginJudge } from "./ours.js";
import type { JudgeFactory } from "./types.js";
import { bonferroniZJudge, naiveZJudge } from "./ztest.js";

/** Every judge in the benchmark, ours first and the oracle last; the tables keep this order. */
export const ALL_JUDGES: readonly JudgeFactory[] = [
  ourJudge,
  naiveZJudge,
  bonferroniZJudge,
  kayentaJudge,
  flaggerJudge,
  oracleJudge,
];

/** Judges run only when named (`--judges`): experiments measured against ours on the same draws. */
export const EXPERIMENT_JUDGES: readonly JudgeFactory[] = [ourPluginJudge];

export const judgesById: ReadonlyMap<string, JudgeFactory> = new Map(
  [...ALL_JUDGES, ...EXPERIMENT_JUDGES].map((j) => [j.id, j]),
);
