// The comparison engine: compare_metrics and the incremental judge the simulator drives.
export { inputsSha256 } from "./inputs.js";
export { compareMetrics, createJudge, type Judge, type JudgeOptions, type ReportOptions } from "./judge.js";
export { reportToMarkdown } from "./markdown.js";
export { compareRows, sortRows } from "./sort.js";
