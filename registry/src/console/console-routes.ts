// Serves the web console (a page, its stylesheet and its script) beside the JSON API: UI files are not API.
import { createHash } from 'node:crypto';
import type { Hono } from 'hono';
import type { AppEnv } from '../middleware/app-env.js';
import { etagMatches } from '../routes/http-range.js';
import { CONSOLE_EVENTS_JS } from './console-events-script.js';
import { CONSOLE_METRICS_JS } from './console-metrics-script.js';
import { CONSOLE_HTML } from './console-page.js';
import { CONSOLE_JS } from './console-script.js';
import { CONSOLE_CSS } from './console-style.js';

export const CONSOLE_PATH = '/console';

/**
 * The page loads only its own two files and talks only to this edge, so a hostile string a device
 * reports (an error message, a program id) can never run as script or pull anything in.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

interface Asset {
  body: string;
  type: string;
  etag: string;
}

function asset(body: string, type: string): Asset {
  return { body, type, etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 32)}"` };
}

/** Mounts GET /console, /console/console.css and /console/console.js on the app. */
export function mountConsole(app: Hono<AppEnv>): void {
  const assets: Array<[string, Asset]> = [
    [CONSOLE_PATH, asset(CONSOLE_HTML, 'text/html; charset=utf-8')],
    [`${CONSOLE_PATH}/console.css`, asset(CONSOLE_CSS, 'text/css; charset=utf-8')],
    [`${CONSOLE_PATH}/console.js`, asset(CONSOLE_JS, 'text/javascript; charset=utf-8')],
    [`${CONSOLE_PATH}/console-events.js`, asset(CONSOLE_EVENTS_JS, 'text/javascript; charset=utf-8')],
    [`${CONSOLE_PATH}/console-metrics.js`, asset(CONSOLE_METRICS_JS, 'text/javascript; charset=utf-8')],
  ];
  for (const [path, a] of assets) {
    app.get(path, (c) => {
      const headers = {
        etag: a.etag,
        // Revalidated on every load, so a new edge version shows its new console at once.
        'cache-control': 'no-cache',
        'content-security-policy': CONSOLE_CSP,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
      };
      if (etagMatches(c.req.header('if-none-match'), a.etag)) return c.body(null, 304, headers);
      return c.body(a.body, 200, { ...headers, 'content-type': a.type });
    });
  }
  // The page's links are relative (it works behind a path prefix), so it must live at /console exactly.
  app.get(`${CONSOLE_PATH}/`, (c) => c.redirect('../console', 308));
}
