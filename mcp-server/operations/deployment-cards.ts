import { z } from "zod";
import { durationMs } from "../core/duration.js";
import { type History, lookLabel } from "../core/history.js";
import { auditHead } from "../ledger/audit.js";
import { type DeploymentCard, listDeploymentCards } from "../ledger/history.js";
import type { OperationContext } from "./context.js";

export const deploymentCardsInput = z.strictObject({
  page: z.coerce
    .number({ error: "page is a page number: 1, 2, ..." })
    .int("page is a whole number")
    .min(1, "pages start at 1")
    .max(1_000_000)
    .default(1),
  per_page: z.coerce.number().int().min(1).max(200, "at most 200 deployments per page").default(50),
});

export interface CardsPage {
  cards: (DeploymentCard & { look: History["look"] })[];
  total: number;
  page: number;
  pages: number;
  per_page: number;
  audit_head: string;
}

/** The manual clock's "now" for a card: as judge.latestSeen, from the canary's newest slice. */
function latestSeenOf(c: DeploymentCard): number {
  const d = c.deployment;
  return c.latestCanarySlice === null
    ? d.last_event_at
    : Math.max(d.last_event_at, c.latestCanarySlice + durationMs(d.policy.slice));
}

/** One page of the status list: one query for the cards (deployments with their latest decision). */
export function deploymentCards(ctx: OperationContext, raw: z.input<typeof deploymentCardsInput>): CardsPage {
  const { page, per_page } = deploymentCardsInput.parse(raw);
  return ctx.ledger.read(() => {
    const { total, cards } = listDeploymentCards(ctx.ledger, {
      limit: per_page,
      offset: (page - 1) * per_page,
    });
    const realNow = ctx.clock.mode === "real" ? ctx.clock.now() : undefined;
    return {
      cards: cards.map((c) => ({
        ...c,
        look: lookLabel(c.deployment, c.latest ?? undefined, realNow ?? latestSeenOf(c)),
      })),
      total,
      page,
      pages: Math.max(1, Math.ceil(total / per_page)),
      per_page,
      audit_head: auditHead(ctx.ledger),
    };
  });
}
