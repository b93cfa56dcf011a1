// The console's HTML page: the token form and the empty tables that console.js fills.
export const CONSOLE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>bpfleet console</title>
<link rel="stylesheet" href="console/console.css">
<script type="module" src="console/console.js"></script>
<script type="module" src="console/console-events.js"></script>
<script type="module" src="console/console-metrics.js"></script>
</head>
<body>
<header>
  <h1>bpfleet <span>operator console</span></h1>
  <p id="status"></p>
  <button id="sign-out" type="button" hidden>Sign out</button>
</header>
<main>
  <p id="error" class="alert" role="alert" hidden></p>
  <noscript><p class="alert">The console needs JavaScript; the same data is in the JSON API under /v1.</p></noscript>

  <form id="login" method="post" hidden>
    <h2>Sign in</h2>
    <p>The console reads the fleet with the edge's admin token. It stays in this browser tab only.</p>
    <label for="token">Admin token</label>
    <input id="token" name="token" type="password" autocomplete="off" spellcheck="false" required>
    <button type="submit">Open console</button>
  </form>

  <div id="views" hidden>
    <section aria-labelledby="h-packages">
      <h2 id="h-packages">Packages</h2>
      <table id="packages" aria-labelledby="h-packages" hidden>
        <thead><tr>
          <th scope="col">Package</th><th scope="col">Version</th><th scope="col">Channels</th>
          <th scope="col">Digest</th><th scope="col">Size</th><th scope="col">Signer key</th>
          <th scope="col">Published</th>
        </tr></thead>
        <tbody></tbody>
      </table>
      <p id="packages-empty" class="empty" hidden>No packages yet — publish one with <code>bpfleet publish</code>.</p>
    </section>

    <section aria-labelledby="h-devices">
      <h2 id="h-devices">Devices</h2>
      <table id="devices" aria-labelledby="h-devices" hidden>
        <thead><tr>
          <th scope="col">Device</th><th scope="col">Presence</th><th scope="col">Groups</th>
          <th scope="col">Host</th><th scope="col">Last seen</th><th scope="col">Health</th>
        </tr></thead>
        <tbody></tbody>
      </table>
      <p id="devices-empty" class="empty" hidden>No devices yet — register one with <code>bpfleet fleet register</code>.</p>
    </section>

    <section aria-labelledby="h-programs">
      <h2 id="h-programs">What runs where</h2>
      <table id="programs" aria-labelledby="h-programs" hidden>
        <thead><tr>
          <th scope="col">Device</th><th scope="col">Program</th><th scope="col">Package</th>
          <th scope="col">Status</th><th scope="col">Attach point</th><th scope="col">Last error</th>
        </tr></thead>
        <tbody></tbody>
      </table>
      <p id="programs-empty" class="empty" hidden>No programs reported yet — apply a policy with <code>bpfleet policy apply</code>.</p>
    </section>

    <section aria-labelledby="h-counters">
      <h2 id="h-counters">Live counters</h2>
      <table id="counters" aria-labelledby="h-counters" hidden>
        <thead><tr>
          <th scope="col">Device</th><th scope="col">Program</th><th scope="col">Metric</th>
          <th scope="col">Key</th><th scope="col" class="num">Value</th><th scope="col" class="num">Rate /s</th>
        </tr></thead>
        <tbody></tbody>
      </table>
      <p id="counters-empty" class="empty" hidden>No telemetry yet — counters appear when a device reports program metrics.</p>
    </section>

    <section aria-labelledby="h-history">
      <h2 id="h-history">Telemetry, last hour</h2>
      <table id="history" aria-labelledby="h-history" hidden>
        <thead><tr>
          <th scope="col">Device</th><th scope="col">Program</th><th scope="col">Metric</th>
          <th scope="col">Key</th><th scope="col" class="num">Now</th><th scope="col">Rate or average</th>
        </tr></thead>
        <tbody></tbody>
      </table>
      <p id="history-empty" class="empty">No telemetry history yet — it builds up as devices report program metrics.</p>
    </section>

    <section aria-labelledby="h-program-events">
      <h2 id="h-program-events">Program events</h2>
      <table id="program-events" aria-labelledby="h-program-events" hidden>
        <thead><tr>
          <th scope="col">Device</th><th scope="col">Stream</th><th scope="col" class="num">Record</th>
          <th scope="col">Fields</th><th scope="col">Stream lost</th><th scope="col">Received</th>
        </tr></thead>
        <tbody></tbody>
      </table>
      <p id="program-events-empty" class="empty">No program events yet — a package's ring buffer declared with <code>events</code> delivers them.</p>
    </section>

    <section aria-labelledby="h-rollouts">
      <h2 id="h-rollouts">Rollouts</h2>
      <div id="rollouts"></div>
      <p id="rollouts-empty" class="empty" hidden>No rollouts yet — start one with <code>bpfleet rollout start</code>.</p>
    </section>
  </div>
</main>
</body>
</html>
`;
