import { describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { EXIT, reportError, UsageError } from "../../mcp-server/cli/output.js";
import {
  BusyError,
  classifyError,
  IntegrityError,
  InvalidInputError,
  NotFoundError,
  RefusedError,
} from "../../mcp-server/core/errors.js";
import { errorResult } from "../../mcp-server/mcp/tool.js";

// One classifier; the CLI and MCP only format what it says.

describe("classifyError", () => {
  it.each([
    [new NotFoundError("deployment_id", "no deployment d9"), { kind: "not_found", field: "deployment_id" }],
    [new InvalidInputError("slices[3].t", "not aligned"), { kind: "invalid_input", field: "slices[3].t" }],
    [
      new RefusedError("fresh_promote_required", "decide first"),
      { kind: "refused", field: "fresh_promote_required" },
    ],
    [new BusyError("ledger locked"), { kind: "busy" }],
    [new IntegrityError("chain cut"), { kind: "integrity" }],
    [new Error("boom"), { kind: "internal", message: "boom" }],
    ["a string", { kind: "internal", message: "a string" }],
  ])("%s", (error, expected) => {
    expect(classifyError(error)).toMatchObject(expected);
  });

  it("a not-found error is not classified as plain bad input", () => {
    expect(classifyError(new NotFoundError("id", "x")).kind).toBe("not_found");
  });

  it("names the first field of a zod error and lists every issue", () => {
    const parsed = z
      .strictObject({ a: z.number(), b: z.object({ c: z.string() }) })
      .safeParse({ a: "x", b: {} });
    if (parsed.success) throw new Error("expected a failure");
    const c = classifyError(parsed.error);
    expect(c).toMatchObject({ kind: "invalid_input", field: "a" });
    expect(c.message).toMatch(/^a: .*; b\.c: /);
  });
});

describe("the transports format the classification", () => {
  it("MCP: a prefix per kind, the field once", () => {
    expect(errorResult(new NotFoundError("deployment_id", "no deployment d9"))).toEqual({
      content: [{ type: "text", text: "Not found: deployment_id: no deployment d9" }],
      isError: true,
      // Programs (the CLI's remote mode) read the class from _meta rather than parsing the text.
      _meta: {
        "canary-pilot/error": { kind: "not_found", field: "deployment_id", message: "no deployment d9" },
      },
    });
    expect(errorResult(new RefusedError("clock", "wrong clock")).content).toEqual([
      { type: "text", text: "Refused (clock): wrong clock" },
    ]);
    expect(errorResult(new BusyError("locked")).content).toEqual([
      { type: "text", text: "Busy (safe to retry): locked" },
    ]);
  });

  it("CLI: the exit code per kind and the field once", () => {
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      expect(reportError(new NotFoundError("deployment_id", "no deployment d9"), false)).toBe(EXIT.badInput);
      expect(reportError(new RefusedError("clock", "wrong clock"), false)).toBe(EXIT.refused);
      expect(reportError(new BusyError("locked"), false)).toBe(EXIT.busy);
      expect(reportError(new IntegrityError("cut"), false)).toBe(EXIT.integrity);
      expect(reportError(new UsageError("bad flag"), false)).toBe(EXIT.badInput);
      expect(reportError(new Error("boom"), false)).toBe(EXIT.internal);
      expect(stderr.mock.calls.map((c) => String(c[0]))).toEqual([
        "canary: deployment_id: no deployment d9\n",
        "canary: refused (clock): wrong clock\n",
        "canary: locked\n",
        "canary: cut\n",
        "canary: bad flag\n",
        "canary: boom\n",
      ]);
    } finally {
      stderr.mockRestore();
    }
  });
});
