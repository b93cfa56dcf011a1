// The console's stylesheet: readable tables, status colours with text beside them (never colour alone).
export const CONSOLE_CSS = `:root {
  color-scheme: light;
  --fg: #1d232b; --muted: #5b6673; --line: #d9dee4; --bg: #f6f7f9; --card: #fff;
  --ok: #17663a; --warn: #8a5300; --bad: #b3261e; --accent: #1f5fbf;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
body { margin: 0; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: baseline; gap: 1rem; padding: .75rem 1.5rem; background: #14202e; color: #fff; }
header h1 { margin: 0; font-size: 1.15rem; }
header h1 span { font-weight: 400; color: #b8c4d2; }
#status { margin: 0 0 0 auto; color: #b8c4d2; font-size: .85rem; }
main { padding: 1rem 1.5rem 3rem; max-width: 80rem; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .5rem 1rem 1rem; margin-bottom: 1rem; overflow-x: auto; }
h2 { font-size: 1rem; margin: .5rem 0; }
h3 { font-size: .95rem; margin: .75rem 0 .25rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .3rem .6rem .3rem 0; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: .8rem; text-transform: uppercase; letter-spacing: .02em; }
tbody tr:last-child td, tbody tr:last-child th { border-bottom: 0; }
tbody th { font-weight: 600; color: var(--fg); text-transform: none; font-size: inherit; letter-spacing: 0; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
code { font: .85rem ui-monospace, "SFMono-Regular", Menlo, monospace; }
code[title] { cursor: help; border-bottom: 1px dotted var(--muted); }
.muted, .empty { color: var(--muted); }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 999px; font-size: .78rem; font-weight: 600; border: 1px solid currentColor; }
.ok { color: var(--ok); }
.warn { color: var(--warn); }
.bad, .error-text { color: var(--bad); }
.error-text { font-weight: 500; }
tr.yanked .version { text-decoration: line-through; }
.alert { background: #fdecea; color: var(--bad); border: 1px solid #f1b6b0; border-radius: 6px; padding: .6rem .9rem; }
form { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 1rem 1.5rem 1.5rem; max-width: 28rem; }
label { display: block; font-weight: 600; margin: .75rem 0 .25rem; }
input { width: 100%; box-sizing: border-box; padding: .45rem; font: inherit; border: 1px solid #aab3bd; border-radius: 4px; }
button { margin-top: .75rem; padding: .4rem .9rem; font: inherit; border-radius: 4px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
header button { margin: 0; background: transparent; border-color: #b8c4d2; color: #fff; }
:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
ul.devices { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: .25rem .75rem; }
.rollout + .rollout { border-top: 1px solid var(--line); margin-top: .75rem; }
.rollout p { margin: 0 0 .4rem; color: var(--muted); }
`;
