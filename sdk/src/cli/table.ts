// One table renderer for the CLI: columns padded to their widest cell, fitted to a terminal by shortening the
// widest columns with an ellipsis (never when piped: a script gets every character).

export interface TableOptions {
  /** Terminal width to fit; undefined (not a terminal) keeps cells whole. */
  width?: number | undefined;
  /** Columns never shortened (ids people copy). */
  keep?: number[];
}

const GAP = '  ';
const MIN_CELL = 8;

function clip(cell: string, width: number): string {
  return cell.length <= width ? cell : `${cell.slice(0, Math.max(0, width - 1))}…`;
}

/** Fits column widths into `total`: the widest shrinkable column gives up a character at a time. */
function fit(widths: number[], total: number, keep: ReadonlySet<number>): number[] {
  const out = [...widths];
  const used = () => out.reduce((a, b) => a + b, 0) + GAP.length * (out.length - 1);
  while (used() > total) {
    let widest = -1;
    out.forEach((w, i) => {
      if (!keep.has(i) && w > MIN_CELL && (widest < 0 || w > out[widest]!)) widest = i;
    });
    if (widest < 0) break;
    out[widest]! -= 1;
  }
  return out;
}

export function renderTable(header: string[], rows: string[][], options: TableOptions = {}): string {
  const all = [header, ...rows];
  const natural = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const widths = options.width ? fit(natural, options.width, new Set(options.keep ?? [0])) : natural;
  return all
    .map((r) =>
      widths
        .map((w, i) => clip(r[i] ?? '', w).padEnd(w))
        .join(GAP)
        .trimEnd(),
    )
    .join('\n');
}

/** The width to fit: the terminal's when stdout is one, else none. */
export function terminalWidth(stream: NodeJS.WriteStream = process.stdout): number | undefined {
  return stream.isTTY ? stream.columns : undefined;
}
