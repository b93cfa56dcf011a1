// A connection as the broker sees it: the client's bytes pass through a FrameReader, refused packets close it.

import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { type FrameJudge, FrameReader } from './frame-reader.js';

export class GuardedSocket extends Duplex {
  private readonly frames: FrameReader;

  constructor(
    private readonly socket: Socket,
    judge: FrameJudge,
    onRefused: (reason: string) => void,
  ) {
    super({ allowHalfOpen: false });
    this.frames = new FrameReader(judge);
    socket.on('data', (chunk: Buffer) => {
      const { forward, refused } = this.frames.feed(chunk);
      for (const piece of forward) if (!this.push(piece)) socket.pause();
      if (refused) {
        onRefused(refused);
        // The rest of a refused packet is never read: closing drops it in the kernel's socket buffer.
        this.destroy();
      }
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => this.destroy());
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.socket.write(chunk, encoding, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket.end(() => callback());
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.destroy();
    callback(error);
  }
}
