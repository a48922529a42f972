import { flaggerJudge } from "./flagger.js";
import { kayentaJudge } from "./kayenta.js";
import { oracleJudge } from "./oracle.js";
import { ourJudge } from "./ours.js";
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

export const judgesById: ReadonlyMap<string, JudgeFactory> = new Map(ALL_JUDGES.map((j) => [j.id, j]));
