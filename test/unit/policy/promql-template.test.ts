import { describe, expect, it } from "vitest";
import { validatePolicyObject } from "../../../mcp-server/core/policy/parse.js";
import { checkTemplate, renderTemplate } from "../../../mcp-server/core/policy/promql-template.js";
import { basicPolicy } from "../../support/policies.js";

const values = {
  deployment: "dep-1",
  cohort: "canary",
  service: "checkout",
  version: "v2",
  slice: "1m",
  vars: { ns: 'a"b\\c', re: "x.*|y" },
};

describe("PromQL templates", () => {
  it("accepts the documented shapes", () => {
    for (const q of [
      'sum(increase(http_requests_total{deployment="{{deployment}}",cohort="{{cohort}}"}[{{slice}}]))',
      "sum by (le) (increase(x_bucket{workload='{{cohort}}',ns=\"{{vars.ns}}\"}[{{slice}}]))",
      'sum(x{code=~"5.."}) - sum(x{code=~"5.."} offset {{slice}})',
    ])
      expect(checkTemplate(q), q).toEqual([]);
  });

  it("refuses unknown placeholders, values outside quotes, and unbalanced quotes or braces", () => {
    expect(checkTemplate('sum(x{a="{{deploy}}"})')[0]).toMatch(/unknown placeholder \{\{deploy\}\}/);
    expect(checkTemplate("sum(x{a={{cohort}}})")[0]).toMatch(/must sit inside a double- or single-quoted/);
    expect(checkTemplate('sum(x{a="{{slice}}"})')[0]).toMatch(/\{\{slice\}\} is a PromQL duration/);
    expect(checkTemplate('sum(x{a="b})')[0]).toMatch(/unbalanced quotes/);
    expect(checkTemplate('sum(x{a="b"})) ')[0]).toMatch(/unbalanced \)/);
    expect(checkTemplate('sum(x{a="b"}[1m]')[0]).toMatch(/unbalanced \(/);
    expect(checkTemplate("sum(x{a=`{{cohort}}`})")[0]).toMatch(/double- or single-quoted/);
  });

  it("escapes values as PromQL strings, and as regexes inside =~", () => {
    expect(renderTemplate('x{ns="{{vars.ns}}"}', values)).toBe('x{ns="a\\"b\\\\c"}');
    expect(renderTemplate("x{ns='{{vars.ns}}'}", values)).toBe("x{ns='a\"b\\\\c'}");
    expect(renderTemplate('x{ns=~"{{vars.re}}"}', values)).toBe('x{ns=~"x\\\\.\\\\*\\\\|y"}');
    expect(renderTemplate("x[{{slice}}]", values)).toBe("x[1m]");
    expect(() => renderTemplate('x{v="{{vars.missing}}"}', values)).toThrow(
      /no value for \{\{vars.missing\}\}/,
    );
  });

  it("validate_policy names the series whose query is wrong, and refuses secrets in the URL or headers", () => {
    const source = (over: Record<string, unknown>) => ({
      ...basicPolicy(),
      source: {
        prometheus: { url: "http://127.0.0.1:9090" },
        series: { http_requests: 'sum(x{a="{{cohort}}"})', http_errors: 'sum(x{a="{{cohort}}"})' },
        ...over,
      },
    });
    const bad = validatePolicyObject(
      source({ series: { http_requests: 'sum(x{a="{{nope}}"})', http_errors: 'sum(x{a="{{cohort}}"})' } }),
    );
    expect(bad.ok ? [] : bad.errors.map((e) => e.path)).toContain("source.series.http_requests");
    const cred = validatePolicyObject(source({ prometheus: { url: "http://u:p@127.0.0.1:9090" } }));
    expect(cred.ok ? "" : cred.errors[0]?.message).toMatch(/no credentials in the URL/);
    const auth = validatePolicyObject(
      source({ prometheus: { url: "http://127.0.0.1:9090", headers: { Authorization: "Bearer x" } } }),
    );
    expect(auth.ok ? "" : auth.errors[0]?.message).toMatch(/token_env or basic_auth_env/);
    const ok = validatePolicyObject(source({}));
    expect(ok.ok ? [] : ok.errors).toEqual([]);
  });
});
