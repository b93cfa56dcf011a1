// The console's script (served as-is, no build step): polls the JSON API every 2 s and renders it safely.
// It builds the DOM with textContent only: device-reported strings are untrusted and never parsed as HTML.
// String.raw: escapes in the script (a regex, '\n') are served verbatim.
export const CONSOLE_JS = String.raw`// bpfleet console: packages, devices, what runs where, live counters and rollouts, refreshed every 2 s.
const TOKEN_KEY = 'bpfleet.console.token';
const REFRESH_MS = 2000;

const $ = (id) => document.getElementById(id);
const rendered = new Map(); // section -> the JSON it last drew: unchanged data leaves the DOM alone
const signers = new Map(); // bundle URL -> signer key id (bundles are immutable)
const seen = new Map(); // counter key -> { value, time, rate } from the last telemetry seen
let timer = null;
let generation = 0; // bumped on sign-in/out so a late response of an old session is dropped

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(path, { auth = false, cache = 'no-store' } = {}) {
  const headers = { accept: 'application/json' };
  if (auth) headers.authorization = 'Bearer ' + sessionStorage.getItem(TOKEN_KEY);
  let res;
  try {
    res = await fetch(path, { headers, cache });
  } catch (err) {
    throw new Error('edge unreachable (' + path + '): ' + err.message);
  }
  if (!res.ok) {
    let message = res.status + ' ' + res.statusText;
    try {
      message = (await res.json()).error.message;
    } catch {}
    throw new HttpError(res.status, path + ': ' + message);
  }
  return res.json();
}

// --- DOM helpers: text only, never innerHTML ---

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

/** sha256:0123456789ab… with the whole digest on hover. */
function digest(value) {
  if (!value) return h('span', { class: 'muted' }, '—');
  const [alg, hex = ''] = value.split(':');
  return h('code', { title: value }, alg + ':' + hex.slice(0, 12) + '…');
}

function time(iso) {
  if (!iso) return h('span', { class: 'muted' }, 'never');
  return h('time', { datetime: iso, title: iso }, new Date(iso).toLocaleString());
}

function bytes(n) {
  return n < 1024 ? n + ' B' : n < 1048576 ? (n / 1024).toFixed(1) + ' KiB' : (n / 1048576).toFixed(1) + ' MiB';
}

const number = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const TONE = { ATTACHED: 'ok', online: 'ok', SUCCEEDED: 'ok', COMPLETED: 'ok', RUNNING: 'ok' };
const BAD = ['FAILED', 'REJECTED', 'DRIFTED', 'TIMED_OUT', 'ABORTED', 'offline', 'DISABLED'];

function badge(text) {
  const tone = TONE[text] ?? (BAD.includes(text) ? 'bad' : 'warn');
  return h('span', { class: 'badge ' + tone }, text);
}

function attachPoint(a) {
  if (!a) return h('span', { class: 'muted' }, '—');
  const where = a.interface ?? a.cgroup ?? '';
  return [where, a.direction, a.mode].filter(Boolean).join(' · ');
}

function fillTable(id, rows) {
  const table = $(id);
  table.tBodies[0].replaceChildren(...rows);
  table.hidden = rows.length === 0;
  $(id + '-empty').hidden = rows.length !== 0;
}

function draw(section, model, render) {
  const json = JSON.stringify(model);
  if (rendered.get(section) === json) return;
  rendered.set(section, json);
  render(model);
}

// --- data ---

async function signerOf(bundleUrl) {
  if (!signers.has(bundleUrl)) {
    const bundle = await api(bundleUrl, { cache: 'default' });
    const hint = bundle?.verificationMaterial?.publicKey?.hint;
    signers.set(bundleUrl, hint ?? bundle?.dsseEnvelope?.signatures?.[0]?.keyid ?? null);
  }
  return signers.get(bundleUrl);
}

async function loadPackages() {
  const { packages } = await api('v1/packages?limit=500');
  const details = await Promise.all(packages.map((p) => api('v1/packages/' + p.package)));
  const rows = [];
  for (const pkg of details) {
    for (const v of pkg.versionList) {
      const channels = Object.keys(pkg.channels).filter((ch) => pkg.channels[ch] === v.version);
      const bundleUrl = 'v1/packages/' + pkg.package + '/versions/' + encodeURIComponent(v.version) + '/bundle';
      rows.push({ ...v, description: pkg.description, channels, signer: await signerOf(bundleUrl) });
    }
  }
  return rows;
}

/** null when this edge runs without its fleet (the routes are absent). */
async function loadFleet() {
  try {
    const [devices, rollouts] = await Promise.all([
      api('v1/fleet/devices', { auth: true }),
      api('v1/fleet/rollouts', { auth: true }),
    ]);
    return { devices, rollouts };
  } catch (err) {
    if (err.status === 404) return null;
    throw err;
  }
}

/** Rate per second between the last two telemetry reports the console saw, in device time. */
function counters(devices) {
  const rows = [];
  for (const d of devices) {
    if (!d.telemetry) continue;
    const at = Date.parse(d.telemetry.time);
    for (const m of d.telemetry.metrics) {
      const key = JSON.stringify([d.id, m.deployment, m.map, m.name, m.key]);
      const prev = seen.get(key);
      let rate = prev?.rate ?? null;
      if (prev && at > prev.time) rate = (m.value - prev.value) / ((at - prev.time) / 1000);
      if (!prev || at > prev.time) seen.set(key, { value: m.value, time: at, rate });
      rows.push({ device: d.id, deployment: m.deployment, name: m.name, key: m.key, value: m.value, rate });
    }
  }
  return rows;
}

// --- rendering ---

function yankedMark(v) {
  return h('span', { class: 'badge bad', title: v.yankReason ?? 'yanked' }, 'yanked');
}

function errorText(text) {
  return h('span', { class: 'error-text' }, text);
}

function renderPackages(rows) {
  fillTable(
    'packages',
    rows.map((v) =>
      h(
        'tr',
        { class: v.yanked ? 'yanked' : null },
        h('th', { scope: 'row', title: v.description }, v.package),
        h('td', {}, h('span', { class: 'version' }, v.version), ' ', v.yanked && yankedMark(v)),
        h('td', {}, v.channels.join(', ') || h('span', { class: 'muted' }, '—')),
        h('td', {}, digest(v.digest)),
        h('td', { class: 'num' }, bytes(v.size)),
        h('td', {}, v.signer ? digest(v.signer) : h('span', { class: 'muted' }, 'unknown')),
        h('td', {}, time(v.publishedAt)),
      ),
    ),
  );
}

function health(d) {
  // A policy whose target.where leaves the device out is the operator's choice, not an error.
  const refused = Object.values(d.policyErrors).filter((r) => r.code !== 'TARGET_EXCLUDED').length;
  const errors = d.programs.filter((p) => p.lastError).length + refused;
  const attached = d.programs.filter((p) => p.status === 'ATTACHED').length;
  const summary = attached + ' of ' + d.programs.length + ' attached';
  if (errors === 0) return h('span', { class: d.programs.length ? 'ok' : 'muted' }, summary);
  return errorText(summary + ', ' + errors + ' error' + (errors > 1 ? 's' : ''));
}

/** x86 6.18.0 · BTF kernel; the rest of the inventory in the cell's title. */
function host(inv) {
  if (!inv) return h('span', { class: 'muted' }, 'not reported');
  const gib = (inv.memoryBytes / 2 ** 30).toFixed(1);
  const title = [
    'kernel ' + inv.kernel.release + ' ' + inv.kernel.version,
    'build id ' + (inv.kernel.buildId || '-'),
    inv.endianness + '-endian, libbpf ' + inv.libbpf + ', agent ' + inv.agentVersion + ', ' + gib + ' GiB',
    'capabilities ' + (inv.capabilities.join(' ') || '-'),
  ].join('\n');
  return h('span', { title }, inv.arch + ' ' + inv.kernel.release + ' · BTF ' + inv.btf);
}

function renderDevices(devices) {
  fillTable(
    'devices',
    devices.map((d) =>
      h(
        'tr',
        {},
        h('th', { scope: 'row' }, d.id),
        h('td', {}, d.state === 'DISABLED' ? badge('DISABLED') : badge(d.presence)),
        h('td', {}, d.groups.join(', ') || h('span', { class: 'muted' }, 'none')),
        h('td', {}, host(d.inventory)),
        h('td', {}, time(d.lastSeen)),
        h('td', {}, health(d)),
      ),
    ),
  );
  const programs = devices.flatMap((d) => [
    ...d.programs.map((p) =>
      h(
        'tr',
        {},
        h('th', { scope: 'row' }, d.id),
        h('td', {}, p.id),
        h('td', {}, p.package + (p.version ? '@' + p.version : '')),
        h('td', {}, badge(p.status)),
        h('td', {}, attachPoint(p.attach)),
        h('td', {}, p.lastError ? errorText(p.lastError.code + ': ' + p.lastError.message) : ''),
      ),
    ),
    ...Object.entries(d.policyErrors).map(([topic, r]) =>
      h(
        'tr',
        {},
        h('th', { scope: 'row' }, d.id),
        h(
          'td',
          { colspan: 5 },
          r.code === 'TARGET_EXCLUDED'
            ? h('span', { class: 'muted' }, 'left out by policy ' + topic + ': ' + r.message)
            : errorText('policy ' + topic + ': ' + r.code + ': ' + r.message),
        ),
      ),
    ),
  ]);
  fillTable('programs', programs);
}

function renderCounters(rows) {
  fillTable(
    'counters',
    rows.map((c) =>
      h(
        'tr',
        {},
        h('th', { scope: 'row' }, c.device),
        h('td', {}, c.deployment),
        h('td', {}, c.name),
        h('td', {}, h('code', {}, c.key)),
        h('td', { class: 'num value' }, number.format(c.value)),
        h('td', { class: 'num rate' }, c.rate === null ? '—' : number.format(c.rate)),
      ),
    ),
  );
}

const WAVE_COLUMNS = ['Wave', 'Started', 'Finished', 'Devices'];

function renderRollout(r) {
  const head = [r.spec.group, '←', r.spec.package + '@' + r.spec.version].join(' ');
  const waves = r.waves.map((w, i) =>
    h(
      'tr',
      {},
      h('th', { scope: 'row' }, String(i + 1), i === r.currentWave && r.state === 'RUNNING' && ' (current)'),
      h('td', {}, time(w.startedAt)),
      h('td', {}, time(w.finishedAt)),
      h(
        'td',
        {},
        h('ul', { class: 'devices' }, w.devices.map((id) => {
          const s = r.devices[id] ?? { status: 'PENDING' };
          return h('li', { title: s.detail ?? null }, id, ' ', badge(s.status));
        })),
      ),
    ),
  );
  const id = 'rollout-' + r.id;
  return h(
    'div',
    { class: 'rollout' },
    h('h3', { id }, head, ' ', badge(r.state)),
    h('p', {}, 'started ', time(r.createdAt), ' · ', r.waves.length + ' wave(s)', r.reason ? ' · ' + r.reason : ''),
    h(
      'table',
      { 'aria-labelledby': id },
      h('thead', {}, h('tr', {}, WAVE_COLUMNS.map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, waves),
    ),
  );
}

function renderRollouts(rollouts) {
  $('rollouts').replaceChildren(...[...rollouts].reverse().map(renderRollout));
  $('rollouts-empty').hidden = rollouts.length !== 0;
}

function renderNoFleet() {
  for (const id of ['devices', 'programs', 'counters']) fillTable(id, []);
  for (const id of ['devices-empty', 'programs-empty', 'counters-empty', 'rollouts-empty']) {
    $(id).textContent = 'This edge runs without its fleet (start bpfleet-edge with the fleet enabled).';
  }
  $('rollouts').replaceChildren();
}

// --- session ---

function showError(message) {
  $('error').textContent = message ?? '';
  $('error').hidden = !message;
}

async function refresh(gen) {
  try {
    const [packages, fleet] = await Promise.all([loadPackages(), loadFleet()]);
    if (gen !== generation) return;
    draw('packages', packages, renderPackages);
    if (fleet) {
      draw('devices', fleet.devices, renderDevices);
      draw('counters', counters(fleet.devices), renderCounters);
      draw('rollouts', fleet.rollouts, renderRollouts);
    } else draw('fleet', null, renderNoFleet);
    showError(null);
    $('status').textContent = 'updated ' + new Date().toLocaleTimeString() + ' · every ' + REFRESH_MS / 1000 + ' s';
  } catch (err) {
    if (gen !== generation) return;
    if (err.status === 401) return signOut('The edge refused this token (401): enter the admin token.');
    if (err.status === 403) return signOut('This token may not read the fleet (403): enter the admin token.');
    showError(err.message);
  }
  timer = setTimeout(() => refresh(gen), REFRESH_MS);
}

function signIn() {
  generation++;
  rendered.clear();
  seen.clear();
  $('login').hidden = true;
  $('views').hidden = false;
  $('sign-out').hidden = false;
  $('status').textContent = 'loading…';
  showError(null);
  refresh(generation);
}

function signOut(message) {
  generation++;
  clearTimeout(timer);
  sessionStorage.removeItem(TOKEN_KEY);
  $('views').hidden = true;
  $('sign-out').hidden = true;
  $('login').hidden = false;
  $('status').textContent = '';
  showError(message);
  $('token').value = '';
  $('token').focus();
}

$('login').addEventListener('submit', (event) => {
  event.preventDefault();
  const value = $('token').value.trim();
  if (!value) return;
  sessionStorage.setItem(TOKEN_KEY, value);
  $('token').value = '';
  signIn();
});
$('sign-out').addEventListener('click', () => signOut(null));

if (sessionStorage.getItem(TOKEN_KEY)) signIn();
else signOut(null);
`;
