import { Readable, pipeline } from 'node:stream';
import { createGunzip, gunzipSync } from 'node:zlib';

/**
 * One top-level record of an input file, with its 1-based position (array
 * index or NDJSON line). `unusable`: nothing in the input is usable (exit 2).
 */
export type InputRecord = { n: number; record: unknown } | { n: number; error: string; unusable?: true };

/**
 * Text that came from an input, safe to print on a terminal: control,
 * format (bidi overrides), separator and unassigned characters become
 * \xNN / \u{…} escapes, so an excerpt of a binary file cannot drive the
 * terminal or disguise a message.
 *
 * @example
 * printable('\x1b[2Jhi') // '\\x1b[2Jhi'
 */
export function printable(s: string): string {
  return s.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Co}\p{Cn}]/gu, (c) => {
    const cp = c.codePointAt(0)!;
    return cp <= 0xff ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u{${cp.toString(16)}}`;
  });
}

/** `not JSON: …` for a parse error (its excerpt of the input escaped). */
const notJson = (e: unknown) => `not JSON: ${printable((e as Error).message)}`;

/** True when the bytes start with the gzip magic number. */
export function isGzip(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;
}

/**
 * Split file contents into records: a JSON document (an array yields its
 * elements), or NDJSON (one per line; a bad line is reported, the rest kept).
 * Gzip is detected by magic bytes, not by file name.
 *
 * @example
 * for (const r of splitRecords(readFileSync('trail.json.gz'))) …
 */
export function splitRecords(data: Buffer): InputRecord[] {
  return splitText(isGzip(data) ? gunzipSync(data) : data);
}

/** Records of an input, iterated once, with how many there are at most (for progress). */
export interface RecordList extends Iterable<InputRecord> {
  readonly length: number;
}

/**
 * Inputs at least this large (after gunzip) are read as NDJSON one line at a
 * time: a whole-file string could not even be built past V8's string limit
 * (~512 MiB), and parsing every record up front holds them all in memory.
 */
export const LINE_BY_LINE_BYTES = 64 * 1024 * 1024;

/**
 * Like `splitRecords`, for inputs of any size: below `lineByLineBytes` the
 * same records; from there on each NDJSON line is decoded and parsed only
 * when the iteration reaches it, so memory holds the bytes and one record.
 * A large input that is one JSON document (not one record per line) is
 * reported, not parsed.
 *
 * @example
 * for (const r of inputRecords(readFileSync('export.ndjson.gz'))) …
 */
export function inputRecords(data: Buffer, lineByLineBytes = LINE_BY_LINE_BYTES): RecordList {
  const buf = isGzip(data) ? gunzipSync(data) : data;
  if (buf.length < lineByLineBytes) return splitText(buf);
  const ends: number[] = [];
  for (let i = buf.indexOf(0x0a); i !== -1; i = buf.indexOf(0x0a, i + 1)) ends.push(i);
  ends.push(buf.length);
  const bom = buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
  return {
    length: ends.length,
    *[Symbol.iterator]() {
      let start = bom;
      let first = true;
      for (let i = 0; i < ends.length; i++) {
        const line = buf.toString('utf8', start, ends[i]);
        start = ends[i]! + 1;
        if (!line.trim()) continue;
        let record: unknown;
        try {
          record = JSON.parse(line);
        } catch (e) {
          if (first) {
            // The first record is not a line of its own: this is one large JSON document.
            yield {
              n: i + 1,
              error: notJsonLines(`${Math.round(buf.length / 2 ** 20)} MiB`, i + 1, e),
            };
            return;
          }
          yield { n: i + 1, error: notJson(e) };
          continue;
        }
        first = false;
        yield { n: i + 1, record };
      }
    },
  };
}

function splitText(buf: Buffer): InputRecord[] {
  const text = buf.toString('utf8').replace(/^\uFEFF/, '');
  const trimmed = text.trim();
  if (!trimmed) return [];
  try {
    const v = JSON.parse(trimmed) as unknown;
    return Array.isArray(v) ? v.map((record, i) => ({ n: i + 1, record })) : [{ n: 1, record: v }];
  } catch (wholeErr) {
    const lines = text.split('\n');
    const out: InputRecord[] = [];
    let nonEmpty = 0;
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      nonEmpty++;
      try {
        out.push({ n: i + 1, record: JSON.parse(line) as unknown });
      } catch (e) {
        out.push({ n: i + 1, error: notJson(e) });
      }
    });
    if (nonEmpty <= 1) return [{ n: 1, error: notJson(wholeErr) }];
    return out;
  }
}

/**
 * The longest line read as one record: a longer one is reported and skipped
 * (split the input), so what one record costs in memory is bounded.
 */
export const MAX_LINE_BYTES = 128 * 1024 * 1024;

const mib = (n: number) => `${Math.round(n / 2 ** 20)} MiB`;

function notJsonLines(size: string, line: number, e: unknown): string {
  return `not JSON Lines: an input of ${size} is read one record per line (NDJSON), and line ${line} is not a JSON value (${printable((e as Error).message)}); convert it, e.g. jq -c '.Records[]'`;
}

/**
 * Splits an input's bytes, handed over as they are read, into records. The
 * first non-empty line decides: a JSON value of its own means NDJSON, and
 * from then on each line is parsed as it completes (memory holds one line);
 * otherwise the input is one JSON document (an array, `{"Records":[…]}`, a
 * pretty-printed envelope), kept until its end and split as `splitRecords`
 * does, up to `lineByLineBytes`, past which it is refused with how to convert
 * it. An input whose first line is a lone array (`[…]` and nothing else) is a
 * document, its elements the records, as `splitRecords` has it.
 *
 * @example
 * const s = new RecordSplitter();
 * for await (const chunk of stream) handle(s.push(chunk));
 * handle(s.end());
 */
export class RecordSplitter {
  private mode: 'probe' | 'lines' | 'doc' = 'probe';
  /** Number of the line being read. */
  private line = 1;
  private parts: Buffer[] = [];
  private partBytes = 0;
  /** The current line is longer than allowed: dropped up to its end. */
  private skipping = false;
  /** Until the mode is known, and in doc mode: the input so far. */
  private held: Buffer[] = [];
  private heldBytes = 0;
  private firstBad?: { n: number; err: unknown };
  /** NDJSON whose first record is an array: a record if more lines follow, else the document's elements. */
  private firstArray?: { n: number; value: unknown[] };
  private stopped = false;

  constructor(
    private readonly lineByLineBytes = LINE_BY_LINE_BYTES,
    private readonly maxLineBytes = MAX_LINE_BYTES,
  ) {}

  /** The line being read: where a read error happened. */
  get position(): number {
    return this.line;
  }

  /** True once the input was refused: nothing more comes out of it, stop reading. */
  get finished(): boolean {
    return this.stopped;
  }

  push(chunk: Buffer): InputRecord[] {
    const out: InputRecord[] = [];
    let start = 0;
    while (!this.stopped && start < chunk.length) {
      if (this.mode === 'doc') {
        this.hold(chunk.subarray(start), out);
        break;
      }
      const nl = chunk.indexOf(0x0a, start);
      const end = nl === -1 ? chunk.length : nl + 1;
      this.addPart(chunk.subarray(start, end), out);
      if (nl !== -1) this.endLine(out);
      start = end;
    }
    return out;
  }

  /** The input ended: what it still holds. */
  end(): InputRecord[] {
    const out: InputRecord[] = [];
    if (this.stopped) return out;
    if (this.mode !== 'doc' && (this.partBytes > 0 || this.skipping)) this.endLine(out);
    this.stopped = true;
    if (this.mode === 'doc') {
      const recs = splitText(Buffer.concat(this.held));
      this.held = [];
      if (recs.some((r) => 'record' in r)) out.push(...recs);
      else if (recs.length === 1) out.push({ ...recs[0]!, unusable: true } as InputRecord);
      else {
        // Binary or plain text: one line saying so, not one per line.
        const first = recs[0] as { n: number; error: string };
        out.push({ n: first.n, error: `not JSON: none of its ${recs.length} lines is a JSON value (line ${first.n}: ${first.error.replace(/^not JSON: /, '')})`, unusable: true });
      }
    } else if (this.firstArray) {
      out.push(...this.firstArray.value.map((record, i) => ({ n: i + 1, record })));
    }
    return out;
  }

  private addPart(part: Buffer, out: InputRecord[]): void {
    if (this.skipping) return;
    if (this.partBytes + part.length > this.maxLineBytes) {
      out.push({ n: this.line, error: `line longer than ${mib(this.maxLineBytes)}: not read (one record per line is expected; split the input)` });
      this.skipping = true;
      this.parts = [];
      this.partBytes = 0;
      return;
    }
    this.parts.push(part);
    this.partBytes += part.length;
  }

  private endLine(out: InputRecord[]): void {
    const n = this.line++;
    const bytes = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    const skipped = this.skipping;
    this.parts = [];
    this.partBytes = 0;
    this.skipping = false;
    if (skipped) return;
    // The line without its newline (kept in `bytes`, which a document is rebuilt from).
    const text = bytes.toString('utf8', 0, bytes.at(-1) === 0x0a ? bytes.length - 1 : bytes.length);
    // trim() also drops a byte order mark.
    if (!text.trim()) {
      if (this.mode === 'probe') this.hold(bytes, out);
      return;
    }
    if (this.mode === 'probe') {
      let v: unknown;
      try {
        v = JSON.parse(text.trim());
      } catch (err) {
        this.mode = 'doc';
        this.firstBad = { n, err };
        this.hold(bytes, out);
        return;
      }
      this.mode = 'lines';
      this.held = [];
      this.heldBytes = 0;
      if (Array.isArray(v)) this.firstArray = { n, value: v };
      else out.push({ n, record: v });
      return;
    }
    if (this.firstArray) {
      out.push({ n: this.firstArray.n, record: this.firstArray.value });
      this.firstArray = undefined;
    }
    try {
      out.push({ n, record: JSON.parse(text) as unknown });
    } catch (err) {
      out.push({ n, error: notJson(err) });
    }
  }

  private hold(bytes: Buffer, out: InputRecord[]): void {
    this.held.push(bytes);
    this.heldBytes += bytes.length;
    if (this.mode === 'doc' && this.heldBytes >= this.lineByLineBytes) {
      // A document this large would be parsed whole in memory: refused, as inputRecords does.
      out.push({ n: this.firstBad!.n, error: notJsonLines(`${mib(this.lineByLineBytes)} or more`, this.firstBad!.n, this.firstBad!.err), unusable: true });
      this.held = [];
      this.stopped = true;
    }
  }
}

const asBuffer = (c: Buffer | string) => (typeof c === 'string' ? Buffer.from(c) : c);

/**
 * The bytes of a stream, gunzipped as they are read when it starts with the
 * gzip magic number. Leaving the iteration early closes the source.
 */
async function* decompressed(source: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer> {
  const it = source[Symbol.asyncIterator]();
  let finished = false;
  try {
    let head = Buffer.alloc(0);
    while (head.length < 2) {
      const n = await it.next();
      if (n.done) {
        finished = true;
        break;
      }
      head = Buffer.concat([head, asBuffer(n.value)]);
    }
    async function* all(): AsyncGenerator<Buffer> {
      if (head.length) yield head;
      while (!finished) {
        const n = await it.next();
        if (n.done) finished = true;
        else yield asBuffer(n.value);
      }
    }
    if (!isGzip(head)) yield* all();
    else yield* pipeline(Readable.from(all()), createGunzip(), () => {}) as unknown as AsyncIterable<Buffer>;
  } finally {
    // Stopped early (input refused, Ctrl-C): release the source (a file is closed).
    if (!finished) await it.return?.();
  }
}

/**
 * Records of a byte stream (a file, standard input), in batches as its bytes
 * arrive: NDJSON line by line in bounded memory, however large the input (see
 * `RecordSplitter`); gzip by its magic number, gunzipped as it streams. A read
 * or gunzip error ends the input with a `cannot read` record (unusable).
 *
 * @example
 * for await (const batch of streamRecords(createReadStream('trail.json.gz'))) …
 */
export async function* streamRecords(
  source: AsyncIterable<Buffer | string>,
  splitter = new RecordSplitter(),
): AsyncGenerator<InputRecord[]> {
  try {
    for await (const chunk of decompressed(source)) {
      const out = splitter.push(chunk);
      if (out.length) yield out;
      if (splitter.finished) return;
    }
  } catch (err) {
    yield [{ n: splitter.position, error: `cannot read: ${printable((err as Error).message)}`, unusable: true }];
    return;
  }
  const out = splitter.end();
  if (out.length) yield out;
}
