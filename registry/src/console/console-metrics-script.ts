// The console's telemetry-over-time view: its own ES module, one inline SVG sparkline per series, text-only DOM.
// Names and keys come from devices: they reach the page as text; the SVG gets only numbers the script computed.
export const CONSOLE_METRICS_JS = String.raw`// bpfleet console: each device's series of the last hour (a counter's rate, a gauge's average) as sparklines.
const TOKEN_KEY = 'bpfleet.console.token';
const REFRESH_MS = 5000;
const DEVICES = 10; // devices asked per refresh: a glance; bpfleet fleet device <id> --metrics has the rest
const W = 120;
const H = 24;
const SVG = 'http://www.w3.org/2000/svg';

const $ = (id) => document.getElementById(id);
let last = '';

function cell(text, cls) {
  const td = document.createElement('td');
  if (cls) td.className = cls;
  td.textContent = text;
  return td;
}

const num = (v) => (Number.isInteger(v) ? String(v) : v.toPrecision(4));

/** Points scaled into the box: the lowest value at the bottom, the highest at the top, a flat series midway. */
export function sparkPoints(values) {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return values
    .map((v, i) => {
      const x = values.length === 1 ? W / 2 : (i / (values.length - 1)) * W;
      const y = hi === lo ? H / 2 : H - ((v - lo) / (hi - lo)) * H;
      return Math.round(x * 10) / 10 + ',' + Math.round(y * 10) / 10;
    })
    .join(' ');
}

function sparkline(values, label) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '-1 -1 ' + (W + 2) + ' ' + (H + 2));
  svg.setAttribute('width', String(W));
  svg.setAttribute('height', String(H));
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  const line = document.createElementNS(SVG, 'polyline');
  line.setAttribute('points', sparkPoints(values));
  line.setAttribute('fill', 'none');
  line.setAttribute('stroke', 'currentColor');
  line.setAttribute('stroke-width', '1.5');
  svg.append(line);
  return svg;
}

async function get(path) {
  const res = await fetch(path, {
    headers: { accept: 'application/json', authorization: 'Bearer ' + sessionStorage.getItem(TOKEN_KEY) },
    cache: 'no-store',
  });
  if (!res.ok) throw new Error(path + ': ' + res.status);
  return res.json();
}

function row(device, s) {
  const values = s.counter
    ? s.points.filter((p) => p.rate !== undefined).map((p) => p.rate)
    : s.points.map((p) => p.avg);
  const tr = document.createElement('tr');
  const th = document.createElement('th');
  th.scope = 'row';
  th.textContent = device;
  const now = values.length === 0 ? '–' : s.counter ? num(values.at(-1)) + '/s' : num(s.points.at(-1).last);
  const graph = document.createElement('td');
  if (values.length > 0) {
    const what = s.counter ? 'rate per second' : 'average';
    graph.append(sparkline(values, what + ' from ' + num(Math.min(...values)) + ' to ' + num(Math.max(...values))));
  }
  tr.append(th, cell(s.deployment), cell(s.name), cell(s.key), cell(now, 'num'), graph);
  return tr;
}

async function refresh() {
  try {
    if ($('views').hidden || !sessionStorage.getItem(TOKEN_KEY)) return;
    const devices = (await get('v1/fleet/devices')).slice(0, DEVICES);
    const rows = [];
    for (const d of devices) {
      const { series } = await get('v1/fleet/devices/' + encodeURIComponent(d.id) + '/metrics?since=1h');
      for (const s of series) rows.push([d.id, s]);
    }
    const json = JSON.stringify(rows);
    if (json === last) return;
    last = json;
    $('history').tBodies[0].replaceChildren(...rows.map(([device, s]) => row(device, s)));
    $('history').hidden = rows.length === 0;
    $('history-empty').hidden = rows.length !== 0;
  } catch {
    // The main view reports the edge's errors; this one waits for the next refresh.
  } finally {
    setTimeout(refresh, REFRESH_MS);
  }
}

refresh();
`;
