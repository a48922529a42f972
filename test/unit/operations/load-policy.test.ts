import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../mcp-server/core/errors.js";
import { checkPolicyArgument, loadPolicyArgument } from "../../../mcp-server/operations/load-policy.js";
import { busyPolicy } from "./harness.js";

// A policy argument: a path read through the caller's reader, or an inline object.

const reading = (files: Record<string, string>) => ({
  readPolicyFile: (path: string) => {
    const text = files[path];
    if (text === undefined) throw new Error(`ENOENT: no such file ${path}`);
    return text;
  },
});

const YAML = `service: checkout
ladder:
  - { percent: 10, window: 10m }
  - { percent: 100 }
metrics:
  - name: error_rate
    type: ratio
    events: http_errors
    trials: http_requests
    bad: increase
    tolerance: { relative: 0.2 }
`;

function invalid(fn: () => unknown): InvalidInputError {
  try {
    fn();
  } catch (e) {
    if (e instanceof InvalidInputError) return e;
    throw e;
  }
  throw new Error("expected invalid input");
}

describe("policy arguments", () => {
  it("a file and the same policy inline load to the same policy and hash", () => {
    const ctx = reading({ "p.yaml": YAML });
    const fromFile = loadPolicyArgument(ctx, "p.yaml");
    const inline = loadPolicyArgument(ctx, {
      service: "checkout",
      ladder: [{ percent: 10, window: "10m" }, { percent: 100 }],
      metrics: [
        {
          name: "error_rate",
          type: "ratio",
          events: "http_errors",
          trials: "http_requests",
          bad: "increase",
          tolerance: { relative: 0.2 },
        },
      ],
    });
    expect(fromFile.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(fromFile).toEqual(inline);
    expect(fromFile.policy.check_every).toBe("15m");
  });

  it("an unreadable file says so without repeating the reader's words", () => {
    const error = invalid(() => loadPolicyArgument(reading({}), "secret/path.yaml"));
    expect(error.field).toBe("policy");
    expect(error.message).toBe(
      'cannot read policy file "secret/path.yaml"; pass a readable path or an inline policy object',
    );
    expect(error.message).not.toMatch(/ENOENT/);
    // A reader's own InvalidInputError (the file rules) is passed on as it is.
    const rules = {
      readPolicyFile: () => {
        throw new InvalidInputError("policy", "over HTTP a policy path must name a file under --policies");
      },
    };
    expect(invalid(() => loadPolicyArgument(rules, "x.yaml")).message).toBe(
      "over HTTP a policy path must name a file under --policies",
    );
  });

  it("a file that is not a policy is described without a word of its content", () => {
    for (const text of [
      "root:x:0:0:root:/root:/bin/bash\n",
      "token: s3cr3t\n",
      "[1, 2]",
      "service: x\n",
      "",
    ]) {
      const checked = checkPolicyArgument(reading({ f: text }), "f");
      expect(checked.ok).toBe(false);
      const errors = checked.ok ? [] : checked.errors;
      expect(errors).toEqual([
        {
          path: "(file)",
          message:
            '"f" is not a canary policy (a YAML or JSON mapping with service, ladder and metrics); pass a policy file\'s path or an inline policy object',
        },
      ]);
    }
    // Unresolvable YAML in something shaped like a policy is also not quoted.
    const alias = checkPolicyArgument(reading({ f: "service: *nope\nladder: []\n" }), "f");
    expect(alias.ok ? [] : alias.errors.map((e) => e.path)).toEqual(["(file)"]);
  });

  it("a mapping with service and a ladder or metrics is a policy: its errors are quoted", () => {
    for (const text of [
      "service: checkout\nladder: [{ percent: 100 }]\n",
      "service: checkout\nmetrics: []\n",
    ]) {
      const checked = checkPolicyArgument(reading({ f: text }), "f");
      expect(checked.ok).toBe(false);
      const paths = checked.ok ? [] : checked.errors.map((e) => e.path);
      expect(paths, text).not.toContain("(file)");
      expect(paths.length).toBeGreaterThan(0);
    }
  });

  it("a policy's first error names its field and line, and counts the rest", () => {
    const broken = YAML.replace("percent: 10,", "percent: 101,").replace("bad: increase", "bad: sideways");
    const error = invalid(() => loadPolicyArgument(reading({ "p.yaml": broken }), "p.yaml"));
    expect(error.field).toBe("policy.ladder[0].percent");
    expect(error.message).toMatch(/^line 3: /);
    expect(error.message).toMatch(
      /\(and 1 more; canary policy validate FILE or the validate_policy tool lists all\)$/,
    );
    const syntax = invalid(() =>
      loadPolicyArgument(reading({ "p.yaml": `${YAML}  - [unclosed\n` }), "p.yaml"),
    );
    expect(syntax.field).toBe("policy");
    expect(syntax.message).toMatch(/^line \d+: /);
    const one = invalid(() => loadPolicyArgument(reading({}), { ...busyPolicy(), check_every: "soon" }));
    expect(one.field).toBe("policy.check_every");
    expect(one.message).not.toMatch(/more/);
    expect(one.message).not.toMatch(/^line/);
  });
});
