// Program metrics in the Prometheus text format, each under the manifest's own name, type, help and labels.
import type { ProgramMetric } from '../ports.js';

/** Label values and help text escaped as the exposition format requires. */
function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A float without binary noise (7 × 1e-6 prints 0.000007, not 0.0000070000000000000005). */
export function formatNumber(n: number): string {
  if (n === Number.POSITIVE_INFINITY) return '+Inf';
  if (n === Number.NEGATIVE_INFINITY) return '-Inf';
  if (Number.isNaN(n)) return 'NaN';
  return String(Number(n.toPrecision(15)));
}

function labelText(fixed: Record<string, string>, extra: [string, string][] = []): string {
  const all = [...Object.entries(fixed), ...extra];
  return `{${all.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
}

function samples(m: ProgramMetric): string[] {
  const labels: Record<string, string> = {
    deployment: m.deployment,
    ...(m.package !== undefined ? { package: m.package } : {}),
    ...(m.version !== undefined ? { version: m.version } : {}),
    ...(m.labels ?? {}),
  };
  if (m.type !== 'histogram') return [`${m.name}${labelText(labels)} ${formatNumber(m.value)}`];
  const out: string[] = [];
  let cumulative = 0;
  let sawInf = false;
  for (const bucket of m.buckets ?? []) {
    cumulative += bucket.count;
    sawInf ||= bucket.le === Number.POSITIVE_INFINITY;
    out.push(`${m.name}_bucket${labelText(labels, [['le', formatNumber(bucket.le)]])} ${cumulative}`);
  }
  if (!sawInf) out.push(`${m.name}_bucket${labelText(labels, [['le', '+Inf']])} ${cumulative}`);
  if (m.sum !== undefined) out.push(`${m.name}_sum${labelText(labels)} ${formatNumber(m.sum)}`);
  out.push(`${m.name}_count${labelText(labels)} ${cumulative}`);
  return out;
}

/**
 * One family per name: HELP and TYPE once, then every deployment's samples. A name the agent uses itself
 * (`taken`), or one a second package declares with another type, is left out and reported through `skipped`
 * (two families of one name would make the whole scrape invalid).
 */
export function renderProgramMetrics(
  metrics: readonly ProgramMetric[],
  taken: ReadonlySet<string> = new Set(),
  skipped: (metric: ProgramMetric, why: string) => void = () => {},
): string {
  const families = new Map<string, { type: string; help: string; lines: string[] }>();
  for (const m of metrics) {
    const type = m.type ?? 'gauge';
    if (taken.has(m.name)) {
      skipped(m, 'the agent exports a metric of this name itself');
      continue;
    }
    let family = families.get(m.name);
    if (!family) {
      family = { type, help: m.help ?? `${m.map} of ${m.deployment}`, lines: [] };
      families.set(m.name, family);
    } else if (family.type !== type) {
      skipped(m, `declared as ${type} here but as ${family.type} by another deployment`);
      continue;
    }
    family.lines.push(...samples(m));
  }
  let text = '';
  for (const [name, f] of families) {
    text += `# HELP ${name} ${escapeHelp(f.help)}\n# TYPE ${name} ${f.type}\n${f.lines.join('\n')}\n`;
  }
  return text;
}
