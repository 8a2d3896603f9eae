/**
 * MLLP framing (HL7 v2 minimal lower layer protocol): each message is 0x0B <message> 0x1C 0x0D. This is an
 * incremental decoder: feed it TCP chunks as they come; it returns complete frames, and says when bytes
 * arrive outside a frame or a frame grows past the limit. Pure: no sockets.
 */
export const START_BLOCK = 0x0b;
export const END_BLOCK = 0x1c;
export const CARRIAGE_RETURN = 0x0d;

export type FramerEvent = { kind: 'frame'; frame: Buffer } | { kind: 'error'; error: 'unframed' | 'oversize' };

export class MllpFramer {
  private chunks: Buffer[] = [];
  private size = 0;
  private inFrame = false;
  private pendingEnd = false;

  constructor(private readonly maxFrameBytes: number) {}

  push(chunk: Buffer): FramerEvent[] {
    const events: FramerEvent[] = [];
    let junk = false;
    let i = 0;
    while (i < chunk.length) {
      if (!this.inFrame) {
        const start = chunk.indexOf(START_BLOCK, i);
        const skipped = chunk.subarray(i, start < 0 ? chunk.length : start);
        // Whitespace between frames is harmless; anything else is data outside a frame.
        if (skipped.some((b) => b !== 0x0a && b !== 0x0d && b !== 0x20 && b !== 0x09)) {
          junk = true;
        }
        if (start < 0) {
          break;
        }
        this.inFrame = true;
        this.chunks = [];
        this.size = 0;
        this.pendingEnd = false;
        i = start + 1;
        continue;
      }
      if (this.pendingEnd) {
        this.pendingEnd = false;
        if (chunk[i] === CARRIAGE_RETURN) {
          events.push({ kind: 'frame', frame: Buffer.concat(this.chunks) });
          this.inFrame = false;
          i += 1;
          continue;
        }
        this.append(Buffer.from([END_BLOCK]));
      }
      const end = chunk.indexOf(END_BLOCK, i);
      const part = chunk.subarray(i, end < 0 ? chunk.length : end);
      this.append(part);
      if (this.size > this.maxFrameBytes) {
        this.inFrame = false;
        this.chunks = [];
        this.size = 0;
        events.push({ kind: 'error', error: 'oversize' });
        return events;
      }
      if (end < 0) {
        break;
      }
      this.pendingEnd = true;
      i = end + 1;
    }
    if (junk) {
      events.unshift({ kind: 'error', error: 'unframed' });
    }
    return events;
  }

  private append(part: Buffer): void {
    if (part.length > 0) {
      this.chunks.push(part);
      this.size += part.length;
    }
  }
}

/** One MLLP frame around a message: text is written as UTF-8, bytes (already encoded in the message's set) as given. */
export function encodeFrame(message: string | Buffer): Buffer {
  return Buffer.concat([
    Buffer.from([START_BLOCK]),
    typeof message === 'string' ? Buffer.from(message, 'utf8') : message,
    Buffer.from([END_BLOCK, CARRIAGE_RETURN]),
  ]);
}
