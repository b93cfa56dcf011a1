// The console's program events view: its own ES module (console.js is at its size bound), text-only DOM.
// Records come from devices: every field is untrusted and reaches the page as text, never as HTML.
export const CONSOLE_EVENTS_JS = String.raw`// bpfleet console: the newest records of the devices' event streams, and what each stream lost.
const TOKEN_KEY = 'bpfleet.console.token';
const REFRESH_MS = 2000;
const DEVICES = 20; // devices asked per refresh: the view is a glance, the CLI has the rest
const PER_DEVICE = 10;

const $ = (id) => document.getElementById(id);
let last = '';

function cell(text, cls) {
  const td = document.createElement('td');
  if (cls) td.className = cls;
  td.textContent = text;
  return td;
}

function fields(record) {
  if (record === null || typeof record !== 'object') return JSON.stringify(record);
  return Object.entries(record)
    .map(([k, v]) => k + '=' + (typeof v === 'string' ? v : JSON.stringify(v)))
    .join(' ');
}

async function get(path) {
  const res = await fetch(path, {
    headers: { accept: 'application/json', authorization: 'Bearer ' + sessionStorage.getItem(TOKEN_KEY) },
    cache: 'no-store',
  });
  if (!res.ok) throw new Error(path + ': ' + res.status);
  return res.json();
}

async function refresh() {
  try {
    if ($('views').hidden || !sessionStorage.getItem(TOKEN_KEY)) return;
    const devices = (await get('v1/fleet/devices')).slice(0, DEVICES);
    const rows = [];
    for (const d of devices) {
      const { events, streams } = await get(
        'v1/fleet/devices/' + encodeURIComponent(d.id) + '/program-events?limit=' + PER_DEVICE,
      );
      const lost = new Map(streams.map((s) => [s.deployment + '/' + s.stream, s.lost]));
      for (const e of events) rows.push({ device: d.id, ...e, lost: lost.get(e.deployment + '/' + e.stream) });
    }
    rows.sort((a, b) => (a.receivedAt < b.receivedAt ? 1 : -1));
    const json = JSON.stringify(rows);
    if (json === last) return;
    last = json;
    const body = $('program-events').tBodies[0];
    body.replaceChildren(
      ...rows.map((r) => {
        const tr = document.createElement('tr');
        const th = document.createElement('th');
        th.scope = 'row';
        th.textContent = r.device;
        const l = r.lost ?? { ringFull: 0, budget: 0 };
        tr.append(
          th,
          cell(r.deployment + '/' + r.stream),
          cell('#' + r.number, 'num'),
          cell(fields(r.record)),
          cell(l.ringFull + ' ring-full · ' + l.budget + ' budget', 'muted'),
          cell(new Date(r.receivedAt).toLocaleTimeString()),
        );
        return tr;
      }),
    );
    $('program-events').hidden = rows.length === 0;
    $('program-events-empty').hidden = rows.length !== 0;
  } catch {
    // The main view reports the edge's errors; this one waits for the next refresh.
  } finally {
    setTimeout(refresh, REFRESH_MS);
  }
}

refresh();
`;
