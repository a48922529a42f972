// The pure decision step: a report and the deployment's context in, a verdict with ordered,
// coded reasons and hold advice out. No I/O; decide, tick, watch, replay and the benchmark all
// call this same function.
export { holdAdvice, LADDER_FRIENDLY_PERCENTS, roundUpToLadderPercent } from "./advice.js";
export { catastropheStatistic, checkCatastrophe } from "./catastrophe.js";
export { classifyRow, type Finding, type RowClassification, type RowOutcome } from "./classify-row.js";
export { type DecideInput, decideVerdict, orderFindings, type ProviderError } from "./decide-verdict.js";
export { type SamplesNeeded, samplesNeeded } from "./samples.js";
export { heldPastWindowMs, nextCheckAt, type StepClock, stepClock } from "./timing.js";
