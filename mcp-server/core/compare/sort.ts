import type { Row, RowStatus } from "../report.js";
import { dimsKey } from "../slice.js";

// Rows worst first, then by name: the order people read and the order decide's reasons follow.
// Ties break on metric, statistic and segment with plain string comparison (no locale), so the
// order is the same on every machine.

const STATUS_RANK: Record<RowStatus, number> = {
  regression: 0,
  improvement: 1,
  inconclusive: 2,
  insufficient_data: 3,
  no_data: 4,
  no_difference: 5,
};

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareRows(a: Row, b: Row): number {
  return (
    STATUS_RANK[a.status] - STATUS_RANK[b.status] ||
    compareStrings(a.metric, b.metric) ||
    compareStrings(a.statistic, b.statistic) ||
    compareStrings(dimsKey(a.segment), dimsKey(b.segment))
  );
}

export function sortRows(rows: Row[]): Row[] {
  return rows.sort(compareRows);
}
