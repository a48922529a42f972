// The pages' one stylesheet, inlined (no files to fetch: works offline and air-gapped). Colours are
// variables that dark mode swaps; the charts' SVG takes its colours from the same classes.

export const PAGE_CSS = `
:root{--bg:#f6f7f9;--fg:#1d2330;--muted:#5d6475;--card:#fff;--line:#d5d9e0;--canary:#c2410c;--control:#1d63c7;
 --ok:#1f7a45;--hold:#a16207;--bad:#c62828;--band:.16;--chip:#eceef2;--chipdone:#cfeedd;--chipnow:#ffe8a3;--chipbad:#f8c9ca}
@media (prefers-color-scheme: dark){:root{--bg:#12151b;--fg:#e4e7ee;--muted:#9aa3b5;--card:#1b2029;--line:#343b48;
 --canary:#fb923c;--control:#6ea8ff;--ok:#4ade80;--hold:#facc15;--bad:#f87171;--band:.22;--chip:#2a303c;--chipdone:#1e4d33;
 --chipnow:#5c4a0c;--chipbad:#5c1f22}}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,sans-serif;padding:1.2rem;background:var(--bg);color:var(--fg);max-width:1400px;margin:0 auto}
a{color:var(--control)} h1{font-size:1.4rem;margin:0 0 .25rem} h2{font-size:1.1rem;margin:1.4rem 0 .4rem}
h2 small,h1 small{color:var(--muted);font-weight:normal} .meta{color:var(--muted);margin:0 0 1rem;font-size:.85rem}
.card{background:var(--card);border-left:6px solid var(--line);border-radius:6px;padding:.7rem 1rem;margin:0 0 .8rem;box-shadow:0 1px 2px #0002}
.card.running{border-color:var(--hold)}.card.ok{border-color:var(--ok)}.card.bad{border-color:var(--bad)}.card.paused{border-color:var(--muted)}
.card h2{margin:.1rem 0}
.rung{display:inline-block;padding:.1rem .5rem;margin:0 .3rem .2rem 0;border-radius:4px;background:var(--chip);font-size:.85rem}
.rung.done{background:var(--chipdone)}.rung.now{background:var(--chipnow);font-weight:bold}.rung.bad{background:var(--chipbad);font-weight:bold}
.label{display:inline-block;padding:0 .4rem;border-radius:4px;font-size:.8rem;font-weight:bold;margin-left:.3rem}
.label.stale{background:var(--chipnow);color:var(--fg)}.label.overdue{background:var(--chipbad);color:var(--fg)}
.verdict-promote{color:var(--ok)}.verdict-hold{color:var(--hold)}.verdict-rollback{color:var(--bad)}
ul{margin:.3rem 0 .2rem 1.2rem;padding:0} code{font-size:.8rem;background:var(--chip);padding:0 .25rem;border-radius:3px;overflow-wrap:anywhere}
table{border-collapse:collapse;font-size:.85rem;width:100%} th,td{text-align:left;padding:.25rem .4rem;border-bottom:1px solid var(--line);vertical-align:top}
.scroll{overflow-x:auto} .grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,560px),1fr));gap:.8rem}
.chart{margin:0;background:var(--card);border-radius:6px;padding:.5rem .6rem}
.chart figcaption,.chart .caption{font-weight:600;font-size:.9rem;margin-bottom:.2rem} .chart svg{width:100%;height:auto;display:block}
.chart text{fill:var(--muted);font-size:13px} .chart .lane{fill:var(--fg)} [data-chart=timeline] text{font-size:11px}
.chart .grid{stroke:var(--line);stroke-width:1} .chart .frame{fill:none;stroke:var(--line)} .chart .mark{stroke:var(--muted);stroke-dasharray:2 3}
.chart .line{fill:none;stroke-width:2} .chart .dashed{stroke-dasharray:6 4} .chart .ref{stroke-width:1.5;stroke-dasharray:4 3}
.chart .band{stroke:none;opacity:var(--band)}
.s-canary{stroke:var(--canary);fill:var(--canary)} .s-control{stroke:var(--control);fill:var(--control)}
.s-evidence{stroke:var(--bad);fill:var(--bad)} .s-margin{stroke:var(--ok);fill:var(--ok)} .s-threshold{stroke:var(--fg);fill:var(--fg)}
.s-tolerance{stroke:var(--bad);fill:var(--bad)} .s-marginline{stroke:var(--ok);fill:var(--ok)} .s-expected{stroke:var(--muted);fill:var(--muted)}
polyline.s-tolerance,polyline.s-marginline{stroke-width:1.5}
.step rect{fill:var(--chipdone);stroke:var(--line)} .step.now rect{fill:var(--chipnow)} .step.bad rect{fill:var(--chipbad)} .step text{fill:var(--fg)}
.decision{stroke:var(--card);stroke-width:1} .v-promote{fill:var(--ok);background:var(--ok)} .v-hold{fill:var(--hold);background:var(--hold)} .v-rollback{fill:var(--bad);background:var(--bad)}
.decision.stale{stroke:var(--fg);stroke-width:2;stroke-dasharray:2 2}
.action path{fill:var(--fg)} .action.a-rollback path{fill:var(--bad)} .action.override path{fill:var(--hold)}
.legend{list-style:none;margin:.2rem 0 0;padding:0;font-size:.8rem;color:var(--muted);display:flex;flex-wrap:wrap;gap:.2rem 1rem}
.key{display:inline-block;width:18px;height:0;border-top:3px solid;vertical-align:middle;margin-right:.3rem}
.key.dashed,.key.ref{border-top-style:dashed} .dot{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:.3rem}
.diamond{display:inline-block;width:9px;height:9px;background:var(--fg);transform:rotate(45deg);margin-right:.4rem}
.key.s-canary{border-color:var(--canary)}.key.s-control{border-color:var(--control)}.key.s-evidence{border-color:var(--bad)}
.key.s-margin{border-color:var(--ok)}.key.s-threshold{border-color:var(--fg)}.key.s-tolerance{border-color:var(--bad)}
.key.s-marginline{border-color:var(--ok)}.key.s-expected{border-color:var(--muted)}
.pager a,.pager span{margin-right:.8rem}
@media (max-width:600px){body{padding:.6rem;font-size:14px} .chart text,[data-chart=timeline] text{font-size:20px}}
details summary{cursor:pointer;color:var(--muted)}
`;
