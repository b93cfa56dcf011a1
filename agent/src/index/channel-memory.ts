// What the device last followed per channel (serial and version), kept on disk: a channel never goes back silently.
import { readFileSync } from 'node:fs';
import { writeFileAtomicSync } from '../state/state-file.js';

export interface ChannelPosition {
  serial: number;
  version: string;
}

export class ChannelMemory {
  private constructor(
    private readonly positions: Map<string, ChannelPosition>,
    private readonly path: string | undefined,
  ) {}

  /** In memory only (tests, simulated devices): forgets on restart. */
  static volatile(): ChannelMemory {
    return new ChannelMemory(new Map(), undefined);
  }

  /** Backed by a JSON file; a missing or unreadable file starts empty (the first signed move is then followed). */
  static open(path: string): ChannelMemory {
    const positions = new Map<string, ChannelPosition>();
    try {
      const raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, ChannelPosition>;
      for (const [key, p] of Object.entries(raw)) {
        if (Number.isSafeInteger(p?.serial) && typeof p?.version === 'string') positions.set(key, p);
      }
    } catch {
      // Nothing remembered yet.
    }
    return new ChannelMemory(positions, path);
  }

  get(pkg: string, channel: string): ChannelPosition | undefined {
    return this.positions.get(`${pkg}#${channel}`);
  }

  set(pkg: string, channel: string, position: ChannelPosition): void {
    const key = `${pkg}#${channel}`;
    const known = this.positions.get(key);
    if (known && known.serial === position.serial && known.version === position.version) return;
    this.positions.set(key, position);
    if (this.path) writeFileAtomicSync(this.path, JSON.stringify(Object.fromEntries(this.positions)));
  }
}
