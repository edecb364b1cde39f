/**
 * An append-only disk spool of payload lines (NDJSON segment files) for alerts the receiver
 * cannot take yet. Read back in order, acknowledged one by one; a `cursor` file remembers how
 * far delivery got, so a new process on the same directory resumes where the old one stopped.
 *
 * Layout: `<dir>/segment-<10-digit id>.ndjson` files, oldest id first, and `<dir>/cursor`
 * (`<segment id> <byte offset>`: everything before it is delivered). Each line is written with
 * one synchronous write, so a crash mid-write leaves at most one partial last line in the
 * segment being written. A new process never appends to an old segment: it starts a new one,
 * and the reader skips (and counts) a final line without its newline.
 * Writes are not fsynced line by line: a process crash loses nothing written, a power loss
 * may lose the last seconds (a segment is fsynced when it is sealed).
 */
import {
  closeSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { SidecarError } from '../errors.js';
import type { SidecarMetrics } from '../sidecar/metrics.js';
import { LogThrottle, type SinkLogger } from './alert-sink.js';

export const SPOOL_DEFAULTS = Object.freeze({
  /** Total bytes of segment files; a line that would pass it is dropped and counted. 64 MiB. */
  maxBytes: 64 * 1024 * 1024,
  /** A segment is sealed and a new one started past this size. 4 MiB. */
  segmentBytes: 4 * 1024 * 1024,
  /** The cursor file is rewritten at most this often while draining (and on close). */
  cursorFlushMs: 200,
});

export interface DiskSpoolOptions {
  dir: string;
  /** @default SPOOL_DEFAULTS.maxBytes */
  maxBytes?: number;
  /** @default SPOOL_DEFAULTS.segmentBytes */
  segmentBytes?: number;
  /** @default SPOOL_DEFAULTS.cursorFlushMs */
  cursorFlushMs?: number;
  metrics?: SidecarMetrics;
  logger?: SinkLogger;
}

/** One spooled payload handed to the reader; pass it back to `ack` once delivered or given up. */
export interface SpoolRecord {
  readonly body: string;
  /** Segment id and the byte offset just past this line: where the cursor moves once acked. */
  readonly segment: number;
  readonly end: number;
}

interface Segment {
  id: number;
  path: string;
  size: number;
  sealed: boolean;
}

const SEGMENT_RE = /^segment-(\d{10})\.ndjson$/;
const READ_CHUNK_BYTES = 64 * 1024;
const NEWLINE = 0x0a;

function segmentName(id: number): string {
  return `segment-${String(id).padStart(10, '0')}.ndjson`;
}

export class DiskSpool {
  readonly dir: string;
  private readonly maxBytes: number;
  private readonly segmentBytes: number;
  private readonly cursorFlushMs: number;
  private readonly metrics: SidecarMetrics | undefined;
  private readonly logger: SinkLogger | undefined;
  private readonly throttle = new LogThrottle();
  private readonly cursorPath: string;

  private segments: Segment[] = [];
  private nextId = 1;
  private writeFd: number | undefined;
  private totalBytes = 0;
  /** Complete lines on disk after the cursor (taken-but-unacked ones included). */
  private lines = 0;
  private taken = 0;

  private readSeg: Segment | undefined;
  private readFd: number | undefined;
  private readOff = 0;
  private readBuf: Buffer = Buffer.alloc(0);

  /** Taken or skipped lines in file order; the cursor advances over the acknowledged prefix. */
  private readonly outstanding: SpoolRecord[] = [];
  private readonly acked = new WeakSet<SpoolRecord>();
  private cursorSeg = 0;
  private cursorOff = 0;
  private cursorDirty = false;
  private cursorTimer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(options: DiskSpoolOptions) {
    this.dir = options.dir;
    this.maxBytes = options.maxBytes ?? SPOOL_DEFAULTS.maxBytes;
    this.segmentBytes = Math.min(options.segmentBytes ?? SPOOL_DEFAULTS.segmentBytes, this.maxBytes);
    this.cursorFlushMs = options.cursorFlushMs ?? SPOOL_DEFAULTS.cursorFlushMs;
    this.metrics = options.metrics;
    this.logger = options.logger;
    this.cursorPath = join(this.dir, 'cursor');
  }

  /**
   * Opens (creating if needed) a spool directory and finds what an earlier process left in it.
   * One process per directory.
   * @throws SidecarError `FML_ERR_SPOOL_UNAVAILABLE` when the directory cannot be created or read.
   */
  static open(options: DiskSpoolOptions): DiskSpool {
    const spool = new DiskSpool(options);
    try {
      spool.recover();
    } catch (err) {
      throw new SidecarError('FML_ERR_SPOOL_UNAVAILABLE', `spool directory ${options.dir}: ${(err as Error).message}`, { cause: err });
    }
    return spool;
  }

  /** Payload lines on disk not yet acknowledged (including those taken and in flight). */
  get depth(): number {
    return this.lines;
  }

  /** Payload lines on disk not yet taken by the reader. */
  get unread(): number {
    return this.lines - this.taken;
  }

  /** Bytes of segment files on disk (a partly delivered head segment counts whole until deleted). */
  get bytes(): number {
    return this.totalBytes;
  }

  private recover(): void {
    mkdirSync(this.dir, { recursive: true });
    const found = readdirSync(this.dir)
      .map((name) => SEGMENT_RE.exec(name))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    let cursor: [number, number] | undefined;
    try {
      const [seg, off] = readFileSync(this.cursorPath, 'utf8').trim().split(' ').map(Number);
      if (Number.isSafeInteger(seg) && Number.isSafeInteger(off)) cursor = [seg, off];
    } catch {
      // no cursor yet: nothing was delivered from these segments
    }
    for (const id of found) {
      const path = join(this.dir, segmentName(id));
      const size = statSync(path).size;
      this.nextId = id + 1;
      // Segments before the cursor's were delivered; a crash came before their deletion.
      if (size === 0 || (cursor !== undefined && id < cursor[0])) {
        unlinkSync(path);
        continue;
      }
      this.segments.push({ id, path, size, sealed: true });
      this.totalBytes += size;
    }
    const head = this.segments[0];
    if (head !== undefined) {
      this.cursorSeg = head.id;
      this.cursorOff = cursor !== undefined && cursor[0] === head.id ? Math.min(cursor[1], head.size) : 0;
      for (const seg of this.segments) this.lines += countNewlines(seg.path, seg === head ? this.cursorOff : 0, seg.size);
      this.readSeg = head;
      this.readOff = this.cursorOff;
      this.advanceCursor();
      if (this.lines > 0) this.logger?.info({ dir: this.dir, alerts: this.lines }, 'spool: found undelivered alerts from an earlier run');
    }
    this.updateGauge();
  }

  /**
   * Appends one payload line (it must hold no newline). Synchronous: one write call.
   * @returns false when the spool is full, closed or the write failed; the alert is then
   * counted in `dropped` (reason `spool_full`, `spool_closed`, `spool_write_error`) and logged,
   * unless `countDrop` is false (the caller keeps the alert elsewhere).
   */
  append(body: string, options: { countDrop?: boolean } = {}): boolean {
    const count = options.countDrop ?? true;
    if (this.closed) return count && this.drop('spool_closed', 'spool closed: alert dropped');
    const buf = Buffer.from(`${body}\n`, 'utf8');
    if (this.totalBytes + buf.length > this.maxBytes) {
      return count && this.drop('spool_full', `spool full (${this.maxBytes} bytes): alert dropped`);
    }
    let seg = this.segments[this.segments.length - 1];
    try {
      if (seg === undefined || seg.sealed || (seg.size > 0 && seg.size + buf.length > this.segmentBytes)) {
        if (seg !== undefined && !seg.sealed) this.seal(seg);
        seg = { id: this.nextId++, path: '', size: 0, sealed: false };
        seg.path = join(this.dir, segmentName(seg.id));
        this.writeFd = openSync(seg.path, 'a');
        this.segments.push(seg);
        if (this.readSeg === undefined) {
          this.readSeg = seg;
          this.readOff = 0;
          this.cursorSeg = seg.id;
          this.cursorOff = 0;
        }
      }
    } catch (err) {
      return count && this.drop('spool_write_error', `spool: cannot start a segment (${(err as Error).message}): alert dropped`);
    }
    const fd = this.writeFd as number;
    let written = 0;
    try {
      while (written < buf.length) written += writeSync(fd, buf, written, buf.length - written);
    } catch (err) {
      // Take back a partial line so the next one does not join it; failing that, seal the
      // segment: the reader skips its partial tail.
      try {
        ftruncateSync(fd, seg.size);
      } catch {
        seg.size += written;
        this.totalBytes += written;
        this.seal(seg);
      }
      return count && this.drop('spool_write_error', `spool: write failed (${(err as Error).message}): alert dropped`);
    }
    seg.size += buf.length;
    this.totalBytes += buf.length;
    this.lines++;
    this.metrics?.spooled.inc();
    this.updateGauge();
    return true;
  }

  /** Takes up to `max` unread lines, oldest first; skips (and counts) partial or corrupt lines. */
  take(max: number): SpoolRecord[] {
    const out: SpoolRecord[] = [];
    while (out.length < max && this.readSeg !== undefined && !this.closed) {
      const seg = this.readSeg;
      const nl = this.readBuf.indexOf(NEWLINE);
      if (nl < 0) {
        const have = this.readOff + this.readBuf.length;
        if (have < seg.size) {
          this.readMore(seg, have);
          continue;
        }
        if (!seg.sealed) break;
        if (this.readBuf.length > 0) {
          this.skip(seg.id, seg.size, 'spool_partial_line', false);
        }
        if (!this.moveReaderPast(seg)) break;
        continue;
      }
      const line = this.readBuf.subarray(0, nl);
      const end = this.readOff + nl + 1;
      this.readBuf = this.readBuf.subarray(nl + 1);
      this.readOff = end;
      // Lines are payloads this module wrote: a JSON object on one line. Anything else is damage.
      if (line.length < 2 || line[0] !== 0x7b || line[line.length - 1] !== 0x7d) {
        this.skip(seg.id, end, 'spool_corrupt', true);
        continue;
      }
      const record: SpoolRecord = { body: line.toString('utf8'), segment: seg.id, end };
      this.outstanding.push(record);
      this.taken++;
      out.push(record);
    }
    this.advanceCursor();
    return out;
  }

  /** Marks a taken line delivered (or given up for good); the cursor moves past acked prefixes. */
  ack(record: SpoolRecord): void {
    if (this.acked.has(record)) return;
    this.acked.add(record);
    this.taken--;
    this.lines--;
    this.advanceCursor();
    this.updateGauge();
  }

  /**
   * Seals the segment being written, saves the cursor and closes files. Lines taken but not
   * acked stay on disk and are read again by the next process.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const last = this.segments[this.segments.length - 1];
    if (last !== undefined && !last.sealed) this.seal(last);
    if (this.readFd !== undefined) closeSync(this.readFd);
    this.readFd = undefined;
    if (this.cursorTimer !== undefined) clearTimeout(this.cursorTimer);
    this.cursorTimer = undefined;
    this.flushCursor();
  }

  private readMore(seg: Segment, position: number): void {
    if (this.readFd === undefined) this.readFd = openSync(seg.path, 'r');
    const chunk = Buffer.allocUnsafe(Math.min(READ_CHUNK_BYTES, seg.size - position));
    const n = readSync(this.readFd, chunk, 0, chunk.length, position);
    if (n === 0) throw new SidecarError('FML_ERR_SPOOL_UNAVAILABLE', `spool segment ${seg.path} is shorter than expected`);
    this.readBuf = this.readBuf.length === 0 ? chunk.subarray(0, n) : Buffer.concat([this.readBuf, chunk.subarray(0, n)]);
  }

  /** Moves the reader to the next segment; false when there is none yet. */
  private moveReaderPast(seg: Segment): boolean {
    const next = this.segments[this.segments.indexOf(seg) + 1];
    if (this.readFd !== undefined) closeSync(this.readFd);
    this.readFd = undefined;
    this.readBuf = Buffer.alloc(0);
    this.readSeg = next;
    this.readOff = next === undefined ? seg.size : 0;
    if (next === undefined) this.readSeg = seg; // stays at the end of a sealed segment
    return next !== undefined;
  }

  private skip(segment: number, end: number, reason: 'spool_partial_line' | 'spool_corrupt', complete: boolean): void {
    const record: SpoolRecord = { body: '', segment, end };
    this.outstanding.push(record);
    this.acked.add(record);
    if (complete) this.lines--;
    this.readBuf = Buffer.alloc(0);
    this.readOff = end;
    this.drop(reason, reason === 'spool_partial_line' ? 'spool: skipped a partial last line (a crash mid-write)' : 'spool: skipped a damaged line');
    this.updateGauge();
  }

  private advanceCursor(): void {
    while (this.outstanding.length > 0 && this.acked.has(this.outstanding[0])) {
      const record = this.outstanding.shift() as SpoolRecord;
      this.cursorSeg = record.segment;
      this.cursorOff = record.end;
      this.cursorDirty = true;
    }
    // Delete sealed head segments that are delivered to their end and left by the reader.
    for (let head = this.segments[0]; head !== undefined && head.sealed; head = this.segments[0]) {
      const delivered = head.id < this.cursorSeg || (head.id === this.cursorSeg && this.cursorOff >= head.size);
      const readerDone = this.readSeg !== head || (this.readOff >= head.size && this.readBuf.length === 0);
      if (!delivered || !readerDone) break;
      try {
        unlinkSync(head.path);
      } catch (err) {
        this.logger?.warn({ err, path: head.path }, 'spool: cannot delete a delivered segment');
      }
      this.segments.shift();
      this.totalBytes -= head.size;
      const next = this.segments[0];
      if (this.readSeg === head) {
        if (this.readFd !== undefined) closeSync(this.readFd);
        this.readFd = undefined;
        this.readSeg = next;
        this.readOff = 0;
        this.readBuf = Buffer.alloc(0);
      }
      if (next !== undefined && this.cursorSeg <= head.id) {
        this.cursorSeg = next.id;
        this.cursorOff = 0;
      }
      this.cursorDirty = true;
    }
    if (this.cursorDirty && this.cursorTimer === undefined && !this.closed) {
      this.cursorTimer = setTimeout(() => {
        this.cursorTimer = undefined;
        this.flushCursor();
      }, this.cursorFlushMs);
      this.cursorTimer.unref();
    }
  }

  private flushCursor(): void {
    if (!this.cursorDirty) return;
    try {
      const tmp = `${this.cursorPath}.tmp`;
      writeFileSync(tmp, `${this.cursorSeg} ${this.cursorOff}\n`);
      renameSync(tmp, this.cursorPath);
      this.cursorDirty = false;
    } catch (err) {
      // Only costs duplicates after a restart (delivery resumes from the older cursor).
      this.logger?.warn({ err, dir: this.dir }, 'spool: cannot save the cursor');
    }
  }

  private seal(seg: Segment): void {
    if (this.writeFd !== undefined) {
      try {
        fsyncSync(this.writeFd);
      } catch {
        // best effort: the data is in the page cache already
      }
      closeSync(this.writeFd);
      this.writeFd = undefined;
    }
    seg.sealed = true;
    this.advanceCursor();
  }

  private drop(reason: string, msg: string): false {
    this.metrics?.dropped.inc({ reason });
    const suppressed = this.throttle.admit(reason);
    if (suppressed !== undefined) this.logger?.error({ reason, dir: this.dir, suppressed }, msg);
    return false;
  }

  private updateGauge(): void {
    this.metrics?.spoolDepth.set(this.lines);
  }
}

/** Counts newline bytes of a file in [start, end), reading 1 MiB at a time. */
function countNewlines(path: string, start: number, end: number): number {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(1024 * 1024);
  let count = 0;
  try {
    for (let pos = start; pos < end; ) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, end - pos), pos);
      if (n === 0) break;
      for (let i = buf.indexOf(NEWLINE, 0); i >= 0 && i < n; i = buf.indexOf(NEWLINE, i + 1)) count++;
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
  return count;
}
