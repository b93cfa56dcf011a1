// libbpf's own open step on an object (no load), with every line libbpf printed: `bpfleet build` fails where libbpf would.
import { BpfError } from '../errors.js';
import { type CollectionSpec, loadCollectionSpec } from './collection-spec.js';
import { captureLibbpfOutput } from './internal/libbpf.js';

export interface OpenReport {
  /** The spec when libbpf opened the object. */
  spec?: CollectionSpec;
  /** libbpf's refusal when it did not. */
  error?: BpfError;
  /** What libbpf printed meanwhile, debug lines included, without its `libbpf: ` prefix. */
  output: string[];
}

export function openReport(bytes: Uint8Array): OpenReport {
  const { value, output } = captureLibbpfOutput((): Omit<OpenReport, 'output'> => {
    try {
      return { spec: loadCollectionSpec(bytes) };
    } catch (err) {
      if (err instanceof BpfError && err.code === 'OBJECT_INVALID') return { error: err };
      throw err;
    }
  });
  return { ...value, output: output.map((l) => l.replace(/^libbpf: /, '')) };
}

/** What libbpf said about one program (`prog 'name': …`), e.g. that its section name is unrecognized. */
export function programLines(report: OpenReport, program: string): string[] {
  return report.output.filter((l) => l.startsWith(`prog '${program}': `));
}
