// Splits an MQTT byte stream at packet boundaries and judges each packet from its header and topic alone.

/** What is known of a packet before its body arrives. */
export interface FrameHeader {
  /** MQTT control packet type (3 = PUBLISH). */
  type: number;
  flags: number;
  /** Bytes after the fixed header. */
  remainingLength: number;
  /** PUBLISH only: topic and payload size. */
  topic?: string;
  payloadLength?: number;
}

/** A refusal reason, or null to let the packet through. */
export type FrameJudge = (header: FrameHeader) => string | null;

export type FeedResult = { forward: Buffer[]; refused?: string };

const PUBLISH = 3;

/**
 * Holds at most one packet's fixed header and topic (< 64 KiB + 7 bytes) before judging it; the body of an
 * accepted packet is forwarded as it arrives, and a refused one is never read, so no payload is buffered here.
 */
export class FrameReader {
  private head: Buffer = Buffer.alloc(0);
  /** Bytes of the current (accepted) packet still to forward untouched. */
  private passing = 0;

  constructor(private readonly judge: FrameJudge) {}

  feed(chunk: Buffer): FeedResult {
    const forward: Buffer[] = [];
    let rest = chunk;
    while (rest.length > 0) {
      if (this.passing > 0) {
        const n = Math.min(this.passing, rest.length);
        forward.push(rest.subarray(0, n));
        this.passing -= n;
        rest = rest.subarray(n);
        continue;
      }
      this.head = this.head.length === 0 ? rest : Buffer.concat([this.head, rest]);
      rest = Buffer.alloc(0);
      const header = readHeader(this.head);
      if (header === 'incomplete') break;
      if (typeof header === 'string') return { forward, refused: header };
      const refused = this.judge(header.frame);
      if (refused) return { forward, refused };
      const total = header.fixedLength + header.frame.remainingLength;
      const available = Math.min(total, this.head.length);
      forward.push(this.head.subarray(0, available));
      this.passing = total - available;
      rest = this.head.subarray(available);
      this.head = Buffer.alloc(0);
    }
    return { forward };
  }
}

type ReadHeader = { frame: FrameHeader; fixedLength: number } | 'incomplete' | string;

function readHeader(buf: Buffer): ReadHeader {
  if (buf.length < 2) return 'incomplete';
  let remainingLength = 0;
  let multiplier = 1;
  let i = 1;
  for (;;) {
    if (i > 4) return 'malformed remaining length';
    if (i >= buf.length) return 'incomplete';
    const byte = buf[i]!;
    remainingLength += (byte & 0x7f) * multiplier;
    multiplier *= 128;
    i++;
    if ((byte & 0x80) === 0) break;
  }
  const frame: FrameHeader = { type: buf[0]! >> 4, flags: buf[0]! & 0x0f, remainingLength };
  if (frame.type !== PUBLISH) return { frame, fixedLength: i };
  if (buf.length < i + 2) return 'incomplete';
  const topicLength = buf.readUInt16BE(i);
  if (2 + topicLength > remainingLength) return 'malformed publish: topic longer than the packet';
  if (buf.length < i + 2 + topicLength) return 'incomplete';
  frame.topic = buf.toString('utf8', i + 2, i + 2 + topicLength);
  const qos = (frame.flags >> 1) & 3;
  frame.payloadLength = remainingLength - 2 - topicLength - (qos > 0 ? 2 : 0);
  return { frame, fixedLength: i };
}
