/**
 * The emulator's output video: a minimal, structurally valid MP4 (ftyp, moov with one empty
 * video track, mdat) built in code and padded to any size with deterministic bytes. Bytes
 * are produced on the fly in chunks, so a 1 GiB file streams without being held in memory.
 */
import { createHash } from "node:crypto";
import { Readable } from "node:stream";

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}
function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}
function box(type: string, ...payload: Buffer[]): Buffer {
  const body = Buffer.concat(payload);
  return Buffer.concat([u32(8 + body.length), Buffer.from(type, "latin1"), body]);
}
function fullBox(type: string, version: number, flags: number, ...payload: Buffer[]): Buffer {
  return box(type, u32(((version & 0xff) << 24) | (flags & 0xffffff)), ...payload);
}
const MATRIX = Buffer.concat([0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000].map(u32));

/** ftyp + moov: what precedes the mdat box. */
function header(): Buffer {
  const ftyp = box("ftyp", Buffer.from("isom"), u32(0x200), Buffer.from("isomiso2avc1mp41"));
  const mvhd = fullBox(
    "mvhd",
    0,
    0,
    u32(0),
    u32(0),
    u32(1000),
    u32(0),
    u32(0x00010000),
    u16(0x0100),
    Buffer.alloc(10),
    MATRIX,
    Buffer.alloc(24),
    u32(2),
  );
  const tkhd = fullBox(
    "tkhd",
    0,
    3,
    u32(0),
    u32(0),
    u32(1),
    u32(0),
    u32(0),
    Buffer.alloc(8),
    u16(0),
    u16(0),
    u16(0),
    u16(0),
    MATRIX,
    u32(1080 << 16),
    u32(1920 << 16),
  );
  const mdhd = fullBox("mdhd", 0, 0, u32(0), u32(0), u32(1000), u32(0), u16(0x55c4), u16(0));
  const hdlr = fullBox(
    "hdlr",
    0,
    0,
    u32(0),
    Buffer.from("vide"),
    Buffer.alloc(12),
    Buffer.from("VideoHandler\0"),
  );
  const vmhd = fullBox("vmhd", 0, 1, u16(0), Buffer.alloc(6));
  const dinf = box("dinf", fullBox("dref", 0, 0, u32(1), fullBox("url ", 0, 1)));
  const stbl = box(
    "stbl",
    fullBox("stsd", 0, 0, u32(0)),
    fullBox("stts", 0, 0, u32(0)),
    fullBox("stsc", 0, 0, u32(0)),
    fullBox("stsz", 0, 0, u32(0), u32(0)),
    fullBox("stco", 0, 0, u32(0)),
  );
  const trak = box("trak", tkhd, box("mdia", mdhd, hdlr, box("minf", vmhd, dinf, stbl)));
  const moov = box("moov", mvhd, trak);
  return Buffer.concat([ftyp, moov]);
}

const HEADER = header();
/** The smallest file we can produce: header plus an empty 64-bit mdat box. */
export const MIN_MP4_SIZE = HEADER.length + 16;

const PATTERN_SIZE = 64 * 1024;
/** Deterministic filler (an LCG), repeated through the mdat payload. */
const PATTERN = (() => {
  const b = Buffer.alloc(PATTERN_SIZE);
  let x = 0x2545f491;
  for (let i = 0; i < PATTERN_SIZE; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
})();

/** The first bytes of a file of `size` bytes: ftyp, moov and the mdat box header. */
function prefix(size: number): Buffer {
  const mdatSize = size - HEADER.length;
  // A 64-bit mdat header (size 1 + largesize) works for every size, small or huge.
  const mdat = Buffer.alloc(16);
  mdat.writeUInt32BE(1, 0);
  mdat.write("mdat", 4, "latin1");
  mdat.writeBigUInt64BE(BigInt(mdatSize), 8);
  return Buffer.concat([HEADER, mdat]);
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
