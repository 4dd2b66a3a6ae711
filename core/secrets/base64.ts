/** Base64 values: decoded (UTF-8, UTF-16, Latin-1, gzip) and judged by their text. */
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { REDACTED } from './names.js';
import { redactUrlSecrets } from './urls.js';
import { redactScriptText } from './script.js';

/** One base64 word (a ConfigMap's `binaryData` value, a file stored encoded under `data`), padded as Kubernetes writes it. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/**
 * Base64 as other tools write it, under `data`: padding left off, the URL-safe alphabet (`-`, `_`), lines wrapped
 * (`base64` wraps at 76: the breaks are removed first). Buffer decodes all of these.
 */
const BASE64_LOOSE = /^[A-Za-z0-9+/_-]+={0,2}$/;
/** Text as a file holds it: no control characters but tab and line breaks. */
const CONTROL_CHAR = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
/** The same in Latin-1 text, with its C1 controls (most bytes of binary data decode to one or another). */
const LATIN1_CONTROL_CHAR = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
const UTF8 = new TextDecoder('utf-8', { fatal: true });
/**
 * A base64 value whose decoded bytes are text holding what redactScriptText or redactUrlSecrets hides (an encoded
 * `.env`, credentials file, properties, a PEM key) replaced whole by `[redacted]`: only the secret part of decoded
 * text could be hidden, and re-encoding a partly hidden file would pass off an edited file as the one sent. Binary
 * data, text without secrets and values that are no base64 are returned as they are (===). `cut`: the value is the
 * start of one (a quarantined line ends in it), whose last character may be split. The text is UTF-8 or else Latin-1
 * (a file saved on Windows), and may itself be base64 (encoded twice: read once more). A gzip-compressed text longer
 * than GZIP_TEXT_LIMIT inflated, whose first part holds none (or is binary), comes back as `[unscanned: N bytes]` (N:
 * the compressed size): the rest was never read. A tar archive (a `.tar.gz` bundle, a plain `.tar`), binary by its
 * headers, has its files judged one by one (tarHoldsSecret): one holding a secret hides the value whole; binary files
 * pass as binary values do. Callers replace the value by what comes back whenever it differs.
 *
 * @example
 * redactBase64Text(Buffer.from('DB_PASSWORD=x\n').toString('base64')) // '[redacted]'
 */
export function redactBase64Text(value: string, cut = false): string {
  if (value.length < 8) return value;
  const verdict = base64Verdict(value, cut, 2);
  return verdict === 'secret' ? REDACTED : typeof verdict === 'number' ? unscanned(verdict) : value;
}
/**
 * What stands for a gzip-compressed value whose inflated text is longer than GZIP_TEXT_LIMIT and holds no secret in
 * the part read: the rest was never read, so it is not passed on as if it had been. `bytes`: the compressed stream's size.
 */
function unscanned(bytes: number): string {
  return `[unscanned: ${bytes} bytes]`;
}
/** 'secret' when the decoded text holds one, the gzip stream's size when its text was read only in part, else 'clean'. */
function base64Verdict(value: string, cut: boolean, depth: number): 'secret' | 'clean' | number {
  const word = BLANKS.test(value) ? value.replace(BLANKS_ALL, '') : value;
  // No base64 leaves one character over a group of four.
  if (!BASE64_LOOSE.test(word) || word.replace(/=+$/, '').length % 4 === 1) return 'clean';
  const bytes = Buffer.from(word, 'base64');
  const read: TextRead = { partly: false };
  const text = bytesAsText(bytes, cut, true, read);
  if (text === undefined) {
    // A tar archive (a `.tar.gz` bundle of config files, or a plain `.tar`): its headers hold zero bytes, so it reads as
    // binary; its files are judged one by one as a file stored alone is.
    const archive = read.inflated ?? bytes;
    const tar = isTarHeader(archive, 0) ? tarVerdict(archive, cut || read.cut === true) : 'clean';
    if (tar === 'secret') return 'secret';
    // Binary as far as read: a stream inflated in part (or a tar whose members were not all read) may hold a text file
    // further on that was never read, so it is not passed on either.
    return read.partly || tar === 'partly' ? bytes.length : 'clean';
  }
  if (redactUrlSecrets(redactScriptText(text)) !== text) return 'secret';
  const inner = text.trim();
  const nested = depth > 1 && inner.length >= 8 ? base64Verdict(inner, false, depth - 1) : 'clean';
  return nested !== 'clean' ? nested : read.partly ? bytes.length : 'clean';
}
/** Blanks and line breaks splitting base64 (`base64` wraps at 76, `-w 64`, groups pasted with spaces): removed first. */
const BLANKS = /\s/;
const BLANKS_ALL = /\s+/g;
/**
 * The most a gzip-compressed value is inflated to (a ConfigMap holds 1 MiB at most; a gzip bomb inflates a thousandfold):
 * a text holding more is judged by that much, and is passed on only when that part holds a secret (hidden whole) —
 * else it is replaced by `[unscanned: N bytes]`, as the rest was never read.
 */
const GZIP_TEXT_LIMIT = 256 * 1024;
/**
 * The bytes as text a file would hold, undefined when they are binary: gzip-compressed (`H4sI…`: inflated, at most
 * GZIP_TEXT_LIMIT bytes, once), UTF-16 (a BOM, or ASCII text's zero byte in every pair: Windows tools write it), UTF-8,
 * else Latin-1. `cut`: the bytes are a value's start, so a split last character is dropped.
 */
function bytesAsText(bytes: Buffer, cut: boolean, gzip: boolean, read?: TextRead): string | undefined {
  if (gzip && bytes.length > 18 && bytes[0] === 0x1f && bytes[1] === 0x8b && bytes[2] === 8) {
    const inflated = gunzipBounded(bytes);
    if (inflated === undefined) return undefined;
    if (read && inflated.overLimit) read.partly = true;
    if (read) [read.inflated, read.cut] = [inflated.bytes, inflated.cut];
    return bytesAsText(inflated.bytes, cut || inflated.cut, false);
  }
  const utf16 = utf16Text(bytes, cut);
  if (utf16 !== undefined) return CONTROL_CHAR.test(utf16) ? undefined : utf16;
  const text = decodeUtf8(bytes, cut);
  if (text !== undefined) return CONTROL_CHAR.test(text) ? undefined : text;
  const latin1 = bytes.toString('latin1');
  return LATIN1_CONTROL_CHAR.test(latin1) ? undefined : latin1;
}
/** What bytesAsText read: whether a gzip stream was inflated in part only, and the bytes it inflated (cut or not). */
interface TextRead {
  partly: boolean;
  inflated?: Buffer;
  cut?: boolean;
}

/** A tar header block (ustar, GNU or v7) at `at`: a name, and a checksum that sums its bytes (its own 8 read as blanks). */
function isTarHeader(b: Buffer, at: number): boolean {
  if (b.length < at + 512 || b[at] === 0) return false;
  const sum = tarNumber(b, at + 148, 8);
  if (sum === undefined) return false;
  let total = 0;
  for (let i = at; i < at + 512; i++) total += i >= at + 148 && i < at + 156 ? 0x20 : b[i]!;
  return total === sum;
}
/** A tar header's octal number field (blanks and NULs around it), undefined when it is none (a GNU base-256 size). */
function tarNumber(b: Buffer, at: number, len: number): number | undefined {
  const field = b.toString('latin1', at, at + len).replace(/[\0 ]+$/, '').replace(/^[\0 ]+/, '');
  return /^[0-7]+$/.test(field) ? parseInt(field, 8) : undefined;
}
/** How many of a tar's members are read at most (a bundle of config files holds a few; each is a header and its data). */
const TAR_MEMBERS_LIMIT = 1000;
/**
 * The most text a tar's members are read as, together (a member gzip-compressed itself is inflated up to
 * GZIP_TEXT_LIMIT: 300 small gzip bombs in one 800 KB value took seconds to read, a value at a time).
 */
const TAR_TEXT_BUDGET = 1024 * 1024;
/**
 * Whether a file in a tar archive holds what redactScriptText or redactUrlSecrets hides: each regular file's bytes
 * (typeflag `0`, NUL, `7`) are judged as a base64 value's decoded bytes are (text — gzip-compressed too — or binary,
 * which passes as a binary value does). `cut`: the archive is a stream's start, its last member read as far as it goes.
 * 'partly' when members were left unread (past TAR_MEMBERS_LIMIT or TAR_TEXT_BUDGET, a size tar numbers otherwise,
 * a member's gzip inflated in part): a secret there was never looked for.
 */
function tarVerdict(b: Buffer, cut: boolean): 'secret' | 'clean' | 'partly' {
  let at = 0;
  let read = 0;
  let partly = false;
  for (let n = 0; isTarHeader(b, at); n++) {
    if (n >= TAR_MEMBERS_LIMIT || read >= TAR_TEXT_BUDGET) return 'partly';
    const size = tarNumber(b, at + 124, 12);
    if (size === undefined) return 'partly';
    const type = b[at + 156];
    const start = at + 512;
    const end = start + size;
    if (type === 0x30 || type === 0 || type === 0x37) {
      const data = b.subarray(start, Math.min(end, b.length));
      const member: TextRead = { partly: false };
      const text = data.length === 0 ? undefined : bytesAsText(data, cut && end > b.length, true, member);
      read += member.inflated?.length ?? data.length;
      partly ||= member.partly;
      if (text !== undefined && redactUrlSecrets(redactScriptText(text)) !== text) return 'secret';
    }
    at = start + Math.ceil(size / 512) * 512;
  }
  return partly ? 'partly' : 'clean';
}

/**
 * A gzip stream inflated to at most GZIP_TEXT_LIMIT bytes (`cut` when it held more, or was itself cut: a sync flush
 * takes a stream's start); undefined when it is no gzip. Larger streams are read from a shorter start, never whole.
 */
function gunzipBounded(bytes: Buffer): { bytes: Buffer; cut: boolean; overLimit: boolean } | undefined {
  for (let n = bytes.length; n > 0; n = Math.floor(n / 8)) {
    try {
      const out = gunzipSync(bytes.subarray(0, n), { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength: GZIP_TEXT_LIMIT });
      return { bytes: out, cut: n < bytes.length, overLimit: n < bytes.length };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ERR_BUFFER_TOO_LARGE') return undefined;
    }
  }
  return undefined;
}
/** UTF-16 text (little- or big-endian, by its BOM or by the zero bytes of ASCII text), undefined when the bytes are none. */
function utf16Text(bytes: Buffer, cut: boolean): string | undefined {
  const even = bytes.subarray(0, bytes.length - (bytes.length % 2));
  if (even.length < 4 || (even.length !== bytes.length && !cut)) return undefined;
  let le = even[0] === 0xff && even[1] === 0xfe;
  let be = even[0] === 0xfe && even[1] === 0xff;
  if (!le && !be) {
    // ASCII text in UTF-16: one zero byte in (nearly) every pair, on the same side; UTF-8 and Latin-1 text hold none.
    let zeroHigh = 0;
    let zeroLow = 0;
    for (let i = 0; i < even.length; i += 2) {
      if (even[i] !== 0 && even[i + 1] === 0) zeroHigh++;
      else if (even[i] === 0 && even[i + 1] !== 0) zeroLow++;
    }
    const pairs = even.length / 2;
    le = zeroHigh >= pairs * 0.9;
    be = !le && zeroLow >= pairs * 0.9;
    if (!le && !be) return undefined;
  }
  const body = le ? Buffer.from(even) : Buffer.from(even).swap16();
  const text = body.toString('utf16le');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * The bytes as UTF-8 text, undefined if they are none. `cut`: the bytes are a value's start (a quarantined line cut it),
 * so a character the cut split at their end (up to 3 bytes of it) is dropped, not taken for binary.
 */
function decodeUtf8(bytes: Buffer, cut: boolean): string | undefined {
  for (let drop = 0; drop <= (cut ? Math.min(3, bytes.length) : 0); drop++) {
    try {
      return UTF8.decode(bytes.subarray(0, bytes.length - drop));
    } catch {
      // Try one byte less.
    }
  }
  return undefined;
}
