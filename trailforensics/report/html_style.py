"""The report's look: its stylesheet (screen and print), its one script and its Content-Security-Policy.

The script only makes tables sortable; everything else works without it.
"""

from __future__ import annotations

CSS = """
:root { --fg:#1d1d1f; --muted:#5f6368; --line:#d9d9de; --bg:#fff; --accent:#0b57a4; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
       background: var(--bg); margin: 0; }
header.top { background: #14213d; color: #fff; padding: 18px 28px; }
header.top h1 { margin: 0 0 4px; font-size: 22px; }
header.top p { margin: 0; color: #dfe6f3; font-size: 12px; }
nav.toc { padding: 8px 28px; border-bottom: 1px solid var(--line); font-size: 13px; }
nav.toc a { margin-right: 14px; color: var(--accent); text-decoration: none; }
main { padding: 0 28px 40px; max-width: 1280px; }
section { margin-top: 26px; }
h2 { border-bottom: 2px solid #14213d; padding-bottom: 4px; font-size: 19px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
table { border-collapse: collapse; margin: 6px 0 10px; font-size: 12px; width: auto; max-width: 100%; }
th, td { border: 1px solid var(--line); padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #f1f3f6; }
th[data-sort] { cursor: pointer; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.wrap { overflow-wrap: anywhere; max-width: 520px; }
td.time { white-space: nowrap; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12px; }
pre.cmd { background: #f6f8fa; border: 1px solid var(--line); padding: 6px 8px; white-space: pre-wrap;
          word-break: break-all; font-size: 12px; }
.sev { display: inline-block; padding: 0 6px; border-radius: 3px; font-weight: 700; font-size: 11px;
       color: #fff; letter-spacing: .03em; }
.sev-critical { background: #7b0000; } .sev-high { background: #c0392b; } .sev-medium { background: #b35900; }
.sev-low { background: #2e6da4; } .sev-info { background: #6b7378; }
.sev-error { background: #8a1c12; } .sev-warning { background: #b35900; }
.flag { font-weight: 700; color: #8a1c12; }
.more { color: var(--muted); font-style: italic; }
.note { color: var(--muted); font-size: 12px; }
.kv { display: grid; grid-template-columns: max-content auto; gap: 2px 14px; font-size: 13px; }
.kv dt { color: var(--muted); } .kv dd { margin: 0; word-break: break-all; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 10px 0; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; min-width: 120px; }
.card b { display: block; font-size: 20px; }
.figure { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; padding: 6px; margin: 8px 0; }
svg.chart { max-width: 100%; height: auto; display: block; }
table.matrix td { min-width: 120px; }
.cell-hit { display: block; margin: 2px 0; padding: 2px 4px; border-left: 4px solid #999; background: #f7f7f7; }
.cell-critical { border-color: #7b0000; } .cell-high { border-color: #c0392b; } .cell-medium { border-color: #b35900; }
.cell-low { border-color: #2e6da4; }
.status-bad { font-weight: 700; color: #8a1c12; } .status-good { color: #1e6b3a; }
details summary { cursor: pointer; }
@media print {
  nav.toc, .noprint { display: none; }
  header.top { background: none; color: #000; border-bottom: 2px solid #000; padding: 0 0 8px; }
  header.top p { color: #000; }
  main { padding: 0; max-width: none; }
  section { break-before: page; }
  section#overview { break-before: auto; }
  table, .figure, article.finding { break-inside: avoid; }
  .figure { border: none; overflow: visible; }
  a { color: #000; text-decoration: none; }
  .sev { color: #000; border: 1px solid #000; background: none; }
  details > *:not(summary) { display: block; }
  @page { size: A4 landscape; margin: 12mm; }
}
"""

# Click a header to sort its table (numbers numerically); nothing else needs a script.
SCRIPT = """
document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (th, col) {
    th.setAttribute('data-sort', '');
    th.title = 'Sort by this column';
    th.addEventListener('click', function () {
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var asc = th.getAttribute('data-dir') !== 'asc';
      rows.sort(function (a, b) {
        var x = a.cells[col].textContent, y = b.cells[col].textContent;
        var nx = parseFloat(x.replace(/,/g, '')), ny = parseFloat(y.replace(/,/g, ''));
        var r = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return asc ? r : -r;
      });
      rows.forEach(function (r) { body.appendChild(r); });
      th.setAttribute('data-dir', asc ? 'asc' : 'desc');
    });
  });
});
"""


def csp(nonce: str) -> str:
    return (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src 'nonce-{nonce}'; base-uri 'none'; form-action 'none'"
    )
