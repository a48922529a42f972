import { describe, expect, it } from "vitest";
import type { OutboxMessage } from "../../mcp-server/ledger/outbox.js";
import { scrubbed } from "../../mcp-server/notify/deliver.js";
import { readableEvidence, readableNumber, slackBody } from "../../mcp-server/notify/format.js";

function message(payload: Record<string, unknown>): OutboxMessage {
  return {
    id: 1,
    deployment_id: "d1",
    event: String(payload.event),
    target: "notify[0]",
    payload: { deployment_id: "d1", audit_head: "a".repeat(64), ...payload },
    idempotency_key: "d1:3:0",
    created_at: 0,
    attempts: 0,
    next_attempt_at: 0,
    delivered_at: null,
    last_error: null,
  };
}

describe("Slack messages read as people read numbers and links", () => {
  it("formats measured values and evidence", () => {
    expect(readableNumber(862.8787878787886)).toBe("862.9");
    expect(readableNumber(0.012345678)).toBe("0.01235");
    expect(readableNumber(1234567.89)).toBe("1,234,568");
    expect(readableNumber(null)).toBe("-");
    expect(readableEvidence(1610181644.7860782)).toBe("over 1,000,000");
    expect(readableEvidence(16.18)).toBe("16.2");
  });

  it("puts formatted evidence and an http link to the server's page in a rollback", () => {
    const body = slackBody(
      message({
        event: "rollback",
        from_percent: 5,
        reason: "errors up",
        actor: "bot",
        report: "canary://deployments/d1/report",
        evidence: [
          {
            metric: "latency",
            statistic: "p99",
            status: "worse",
            canary: 862.8787878787886,
            control: 401.1,
            evidence: 1610181644.7860782,
          },
        ],
      }),
      { publicUrl: "https://canary.example.com/" },
    ).text as string;
    expect(body).toContain("canary 862.9 vs control 401.1, evidence over 1,000,000x");
    expect(body).toContain("<https://canary.example.com/deployments/d1|d1>");
    expect(body).not.toMatch(/canary:\/\/|862\.87/);
    const without = slackBody(message({ event: "rollback", report: "canary://deployments/d1/report" }))
      .text as string;
    expect(without).not.toContain("canary://");
    expect(without).toContain("canary compare d1");
  });

  it("takes the receiver's address out of delivery errors", () => {
    const e = Object.assign(new Error("getaddrinfo ENOTFOUND hooks.secret-team.example"), {
      code: "ENOTFOUND",
    });
    const text = scrubbed(e, "https://hooks.secret-team.example:8443/T0/B0/xyz");
    expect(text).not.toMatch(/secret-team|xyz/);
    expect(text).toContain("ENOTFOUND");
  });
});
