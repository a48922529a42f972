import { execFileSync } from "node:child_process";
import { symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { tempDir } from "../support/cli.js";
import { call, connectCanary } from "../support/mcp-client.js";
import { basicPolicy } from "../support/policies.js";

// Over stdio the user's own paths stay readable, under the same rules as HTTP: regular files of
// at most 256 KiB, and nothing quoted from a file that is not a policy.

describe("canary mcp (stdio) policy paths", () => {
  const dir = tempDir();
  let client: Client;

  beforeAll(async () => {
    writeFileSync(join(dir, "good.yaml"), stringify(basicPolicy()));
    writeFileSync(join(dir, "typo.yaml"), stringify(basicPolicy({ aplha: 0.05 })));
    writeFileSync(join(dir, "tokens.json"), JSON.stringify({ "tok-secret-0123456789abcdef": "someone" }));
    writeFileSync(join(dir, "shadow"), "root:$6$salt$hash:19000:0:99999:7:::\nalice:*:19000:0:99999:7:::\n");
    writeFileSync(join(dir, "alias.yaml"), "service: x\nmetrics: *secretanchorvalue\n");
    writeFileSync(join(dir, "huge.yaml"), `service: x\n#${"x".repeat(300 * 1024)}\n`);
    execFileSync("mkfifo", [join(dir, "fifo.yaml")]);
    symlinkSync(join(dir, "good.yaml"), join(dir, "link.yaml"));
    client = await connectCanary({ ledger: join(dir, "ledger.db") });
  });
  afterAll(async () => {
    await client?.close();
  });

  async function validate(policy: string) {
    const r = await call(client, "validate_policy", { policy });
    return r.structuredContent as { valid: boolean; errors: { message: string }[] };
  }

  it("reads the user's own policy files, symlinks included, and names a misspelt field", async () => {
    expect((await validate(join(dir, "good.yaml"))).valid).toBe(true);
    expect((await validate(join(dir, "link.yaml"))).valid).toBe(true);
    expect(JSON.stringify((await validate(join(dir, "typo.yaml"))).errors)).toMatch(/aplha/);
  });

  it("never quotes a file that is not a policy: tokens, password lines, alias names", async () => {
    for (const name of ["tokens.json", "shadow", "alias.yaml"]) {
      const out = await validate(join(dir, name));
      expect(out.valid).toBe(false);
      const text = JSON.stringify(out);
      expect(text, name).not.toMatch(/tok-secret|root|alice|secretanchorvalue|\$6\$/);
      expect(text).toMatch(/not a canary policy/);
    }
  });

  it("refuses devices, FIFOs, directories and huge files without reading them, and keeps answering", async () => {
    for (const p of ["/dev/urandom", "/dev/zero", join(dir, "fifo.yaml"), dir]) {
      const out = await validate(p);
      expect(out.valid, p).toBe(false);
      expect(out.errors[0]?.message).toMatch(/no regular file there/);
    }
    expect((await validate(join(dir, "huge.yaml"))).errors[0]?.message).toMatch(/at most 262144 bytes/);
    expect((await validate(join(dir, "good.yaml"))).valid).toBe(true);
  });
});
