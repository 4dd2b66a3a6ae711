/** Records handed to consumers without copying their bodies up front: held as UTF-8 bytes, or read without `raw`. */
import { MltrailError } from '../errors.js';
import type { RecordKind, SpoolRecord } from './types.js';

/** A spool record whose body is decoded from its UTF-8 bytes on each read of `body`. */
export class HeldRecord implements SpoolRecord {
  constructor(
    readonly seq: number,
    readonly kind: RecordKind,
    readonly id: string,
    private readonly bytes: Buffer,
    readonly added: number,
  ) {}
  get body(): string {
    return this.bytes.toString('utf8');
  }
  get size(): number {
    return this.bytes.length;
  }
  /** JSON.stringify (logs, dumps) gives the same object as a record from `read`. */
  toJSON(): SpoolRecord {
    return { seq: this.seq, kind: this.kind, id: this.id, body: this.body, added: this.added };
  }
}

/** A spool record read without `raw` (see `Spool.readLean`): the full body is fetched when asked for. */
export class LeanRecord implements SpoolRecord {
  constructor(
    readonly seq: number,
    readonly kind: RecordKind,
    readonly id: string,
    readonly leanBody: string,
    readonly size: number,
    readonly added: number,
    private readonly bodyAt: (seq: number) => string | undefined,
  ) {}
  get body(): string {
    const body = this.bodyAt(this.seq);
    if (body === undefined) throw new MltrailError('INTERNAL', `spool record ${this.seq} was pruned while its consumer held it`);
    return body;
  }
  /** JSON.stringify (logs, dumps) gives the same object as a record from `read`. */
  toJSON(): SpoolRecord {
    return { seq: this.seq, kind: this.kind, id: this.id, body: this.body, added: this.added };
  }
}
