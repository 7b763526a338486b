/**
 * The emulator's output video: a real, playable 2-second H.264 clip (src/lib/emulator/clip.ts,
 * made once with ffmpeg by scripts/make-emulator-clip.mjs) whose 64-bit mdat box is stretched
 * to any size: after the encoded frames come deterministic filler bytes that no sample points
 * at, so players and ffprobe read the same clip whatever the size. Layout: ftyp, moov, mdat
 * (to the end of the file). Bytes are produced on the fly in chunks, so a 1 GiB file streams
 * without being held in memory.
 */
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { CLIP_FRAMES_BASE64, CLIP_HEAD_BASE64 } from "./clip.js";

const HEADER = Buffer.from(CLIP_HEAD_BASE64, "base64");
const FRAMES = Buffer.from(CLIP_FRAMES_BASE64, "base64");
/** The smallest file we can produce: the clip itself (header, 64-bit mdat header, frames). */
export const MIN_MP4_SIZE = HEADER.length + 16 + FRAMES.length;

const PATTERN_SIZE = 64 * 1024;
/** Deterministic filler (an LCG), repeated through the rest of the mdat payload. */
const PATTERN = (() => {
  const b = Buffer.alloc(PATTERN_SIZE);
  let x = 0x2545f491;
  for (let i = 0; i < PATTERN_SIZE; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
})();

/** The first bytes of a file of `size` bytes: ftyp, moov, the mdat box header and the frames. */
function prefix(size: number): Buffer {
  const mdatSize = size - HEADER.length;
  // A 64-bit mdat header (size 1 + largesize) works for every size, small or huge; the clip's
  // sample offsets were made for a 16-byte header here.
  const mdat = Buffer.alloc(16);
  mdat.writeUInt32BE(1, 0);
  mdat.write("mdat", 4, "latin1");
  mdat.writeBigUInt64BE(BigInt(mdatSize), 8);
  return Buffer.concat([HEADER, mdat, FRAMES]);
}

export class Mp4File {
  readonly size: number;
  private readonly head: Buffer;

  constructor(size: number) {
    this.size = Math.max(MIN_MP4_SIZE, Math.floor(size));
    this.head = prefix(this.size);
  }

  /** A strong validator for this content (same size, same bytes). */
  get etag(): string {
    const h = createHash("sha256").update(this.head).update(String(this.size)).digest("base64url");
    return `"mp4-${h.slice(0, 20)}"`;
  }

  /** Bytes [start, end] inclusive, in chunks of at most 64 KiB. */
  *chunks(start = 0, end = this.size - 1): Generator<Buffer> {
    let pos = start;
    while (pos <= end) {
      if (pos < this.head.length) {
        const stop = Math.min(this.head.length, end + 1);
        yield this.head.subarray(pos, stop);
        pos = stop;
        continue;
      }
      const offset = (pos - this.head.length) % PATTERN_SIZE;
      const take = Math.min(PATTERN_SIZE - offset, end + 1 - pos);
      yield PATTERN.subarray(offset, offset + take);
      pos += take;
    }
  }

  stream(start = 0, end = this.size - 1): Readable {
    return Readable.from(this.chunks(start, end), { objectMode: false });
  }

  /** The whole file in memory (small sizes only; for tests). */
  bytes(): Buffer {
    return Buffer.concat([...this.chunks()]);
  }
}

export type RangeResult =
  | { kind: "full" }
  | { kind: "partial"; start: number; end: number }
  | { kind: "unsatisfiable" };

/**
 * Interprets a Range header for a file of `size` bytes. One range is served; a header that
 * is not a byte range is ignored (full answer); reversed or out-of-file ranges are 416.
 */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (!header) return { kind: "full" };
  const m = /^\s*bytes\s*=\s*(.+)$/i.exec(header);
  if (!m) return { kind: "full" };
  const first = m[1]!.split(",")[0]!.trim();
  const r = /^(\d*)\s*-\s*(\d*)$/.exec(first);
  if (!r || (r[1] === "" && r[2] === "")) return { kind: "unsatisfiable" };
  if (r[1] === "") {
    const suffix = Number(r[2]);
    if (suffix === 0) return { kind: "unsatisfiable" };
    return { kind: "partial", start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(r[1]);
  const end = r[2] === "" ? size - 1 : Math.min(Number(r[2]), size - 1);
  if (start >= size || start > end) return { kind: "unsatisfiable" };
  return { kind: "partial", start, end };
}
