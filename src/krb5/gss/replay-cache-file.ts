// The per-host file replay cache, the default of every acceptor that serves (src/server, the
// SASL server, spnego/kerberos). It implements the small `ReplayCache` interface of
// replay-cache.ts. It lives here, with the mechanism, so that every layer above can default to
// it; its file I/O is src/runtime's (rcache-io.ts), loaded only by those who import this module.
//
// The file cache is what MIT's per-host rcache file gives a service with several processes
// (node:cluster, pm2 -i N): an authenticator accepted by one process is refused by every other.
// MIT (rc_file2.c) keeps an on-disk hash table under an exclusive fcntl lock. Node has no file
// locks, so this cache needs none: processes only ever APPEND fixed 32-byte records with one
// write(2) on an O_APPEND descriptor, which the kernel serialises, so the file is one total
// order of records that every process reads alike. To check-and-record, a process appends its
// record and reads the file up to that record: if the same tag appears earlier — written by
// anyone — the authenticator is a replay; the first record of a tag wins, whoever wrote it.
// Nothing is lost when writers race, nothing is rewritten in place, and a crash cannot leave a
// lock behind. Each process keeps an index of the records it has read (a compact tag set), so
// a check costs one append and one read of what others wrote since.
//
// Records are grouped into one file per minute of expiry, under a directory only this user can
// write (in KRB5RCACHEDIR, else the OS temp dir, as MIT): a file whose minute has passed holds
// only authenticators that can no longer pass the clock-skew check, so it is deleted whole. The
// directory therefore holds at most (2 x clockskew + 1 min) of records; a restarted process
// reads the live files back and so still refuses what was accepted before the restart.
import {
  appendRecord,
  closeFile,
  ensurePrivateDir,
  getUid,
  joinPath,
  listFiles,
  openAppendFile,
  readAt,
  removeFileSync,
  replayCacheDir,
  writerId,
} from '../../runtime/rcache-io.js';
import {
  REPLAY_BUCKET_MS,
  type ReplayCache,
  ReplayCacheError,
  type ReplayCacheOptions,
  replayBound,
  TagSet,
} from './replay-cache.js';

const RECORD = 32;
const TAG = 16;
const WRITER = 8;
/** 'R' 'C', format 1: every record starts so, so a foreign or torn file is noticed, never misread. */
const MAGIC0 = 0x52;
const MAGIC1 = 0x43;
const FORMAT = 1;
const SUFFIX = '.rc';

export interface FileReplayCacheOptions extends ReplayCacheOptions {
  /**
   * Directory for the cache's own subdirectory (`spnego-rcache-<uid>`); default KRB5RCACHEDIR,
   * else the OS temp dir. Every process that must refuse each other's replays uses the same one.
   */
  dir?: string;
}

interface Bucket {
  fd: number;
  path: string;
  /** Bytes of the file read (and indexed) so far: always whole records. */
  pos: number;
  tags: TagSet;
}

function unavailable(message: string, cause?: unknown): ReplayCacheError {
  return new ReplayCacheError('REPLAY_CACHE_UNAVAILABLE', message, {
    hint: 'the per-host replay cache directory must be writable by this user only (set KRB5RCACHEDIR to move it)',
    ...(cause === undefined ? {} : { cause }),
  });
}

function sameBytes(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[aOff + i] !== b[bOff + i]) return false;
  return true;
}

/**
 * The per-host replay cache: processes of this user on this host that use the same directory
 * refuse each other's replays, and a restart within the skew window forgets nothing. Processes
 * sharing it should use the same `clockskew`. Local filesystems only (NFS does not keep O_APPEND
 * writes atomic).
 */
export class FileReplayCache implements ReplayCache {
  /** The directory holding the bucket files. */
  readonly path: string;
  private readonly buckets = new Map<number, Bucket>();
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private readonly me = writerId(WRITER);
  private readonly record = new Uint8Array(RECORD);
  private readonly buf = new Uint8Array(64 * 1024);
  private sweptAt = 0;

  constructor(opts: FileReplayCacheOptions = {}) {
    this.maxEntries = replayBound('maxEntries', opts.maxEntries, 1_000_000);
    this.maxBytes = replayBound('maxBytes', opts.maxBytes, 64 * 1024 * 1024);
    this.path = joinPath(opts.dir ?? replayCacheDir(), `spnego-rcache-${getUid()}`);
    this.record[0] = MAGIC0;
    this.record[1] = MAGIC1;
    this.record[2] = FORMAT;
    this.record.set(this.me, 4 + TAG);
  }

  private static readonly perDirectory = new Map<string, FileReplayCache>();
  /** One cache per directory per process (default: KRB5RCACHEDIR or the temp dir, read now): what servers use by default. */
  static forDirectory(dir?: string): FileReplayCache {
    const key = dir ?? replayCacheDir();
    let c = FileReplayCache.perDirectory.get(key);
    if (!c) {
      c = new FileReplayCache({ dir: key });
      FileReplayCache.perDirectory.set(key, c);
    }
    return c;
  }

  /** Live entries indexed by this process (its own and every other process's). */
  get size(): number {
    let n = 0;
    for (const b of this.buckets.values()) n += b.tags.size;
    return n;
  }

  private memory(): number {
    let n = 0;
    for (const b of this.buckets.values()) n += b.tags.bytes;
    return n;
  }

  /** Closes the files this process holds open (the records stay for the other processes). */
  close(): void {
    for (const b of this.buckets.values()) closeFile(b.fd);
    this.buckets.clear();
  }

  private prune(nowMs: number): void {
    for (const [n, b] of this.buckets) {
      if ((n + 1) * REPLAY_BUCKET_MS > nowMs) continue;
      closeFile(b.fd);
      this.buckets.delete(n);
      removeFileSync(b.path);
    }
    // Files of minutes long past (left by processes that have stopped): once a minute.
    if (nowMs - this.sweptAt < REPLAY_BUCKET_MS) return;
    this.sweptAt = nowMs;
    for (const name of listFiles(this.path)) {
      if (!name.endsWith(SUFFIX)) continue;
      const n = Number(name.slice(0, -SUFFIX.length));
      if (Number.isInteger(n) && (n + 1) * REPLAY_BUCKET_MS <= nowMs)
        removeFileSync(joinPath(this.path, name));
    }
  }

  private open(n: number): Bucket {
    let b = this.buckets.get(n);
    if (b) return b;
    // Checked before every file it makes (about once a minute), not once: where the parent
    // directory lets others rename entries, the directory could be swapped for theirs meanwhile,
    // and records made there they could delete.
    let why: string | undefined;
    try {
      why = ensurePrivateDir(this.path);
    } catch (e) {
      throw unavailable(`replay cache directory ${this.path}: ${(e as Error).message}`, e);
    }
    if (why !== undefined) throw unavailable(`replay cache directory refused: ${why}`);
    const path = joinPath(this.path, `${n}${SUFFIX}`);
    let fd: number;
    try {
      fd = openAppendFile(path);
    } catch (e) {
      throw unavailable(`cannot open the replay cache file ${path}: ${(e as Error).message}`, e);
    }
    b = { fd, path, pos: 0, tags: new TagSet(1024) };
    this.buckets.set(n, b);
    return b;
  }

  /**
   * Reads what was appended since the last read into the index. With `tag`, stops deciding at
   * the first record of that tag: true when it is ours (we were first), false when another
   * writer's (a replay, or a race we lost).
   */
  private catchUp(b: Bucket, tag?: Uint8Array): boolean | undefined {
    let decided: boolean | undefined;
    for (;;) {
      let n: number;
      try {
        n = readAt(b.fd, this.buf, b.pos);
      } catch (e) {
        throw unavailable(`cannot read the replay cache file ${b.path}: ${(e as Error).message}`, e);
      }
      const whole = n - (n % RECORD);
      for (let off = 0; off < whole; off += RECORD) {
        if (this.buf[off] !== MAGIC0 || this.buf[off + 1] !== MAGIC1 || this.buf[off + 2] !== FORMAT)
          throw unavailable(
            `the replay cache file ${b.path} holds a record that is not ours (torn write or foreign file): refusing until it expires or is removed`,
          );
        const recTag = this.buf.subarray(off + 4, off + 4 + TAG);
        if (tag !== undefined && decided === undefined && sameBytes(recTag, 0, tag, 0, TAG))
          decided = sameBytes(this.buf, off + 4 + TAG, this.me, 0, WRITER);
        b.tags.add(recTag);
      }
      b.pos += whole;
      if (n < this.buf.length) return decided;
    }
  }

  checkAndStore(tag: Uint8Array, expiresAtMs: number, nowMs: number): boolean {
    this.prune(nowMs);
    if (expiresAtMs < nowMs) return true;
    if (tag.length < TAG) throw new ReplayCacheError('BAD_TAG', `a replay tag needs ${TAG} bytes`);
    const b = this.open(Math.floor(expiresAtMs / REPLAY_BUCKET_MS));
    this.catchUp(b);
    if (b.tags.has(tag)) return false;
    const live = this.size;
    if (live >= this.maxEntries || this.memory() + (b.tags.bytesAfterInsert() - b.tags.bytes) > this.maxBytes)
      throw new ReplayCacheError(
        'REPLAY_CACHE_FULL',
        `the per-host replay cache ${this.path} is full (${live} live entries, maxEntries ${this.maxEntries}, maxBytes ${this.maxBytes}): refusing new authenticators until old ones expire (live entries are never evicted)`,
        { hint: 'raise maxEntries / maxBytes of the FileReplayCache, or find who floods this service' },
      );
    const rec = this.record;
    rec.set(tag.subarray(0, TAG), 4);
    const secs = Math.ceil(expiresAtMs / 1000) >>> 0;
    rec[28] = secs >>> 24;
    rec[29] = (secs >>> 16) & 0xff;
    rec[30] = (secs >>> 8) & 0xff;
    rec[31] = secs & 0xff;
    let wrote: number;
    try {
      wrote = appendRecord(b.fd, rec);
    } catch (e) {
      throw unavailable(`cannot write the replay cache file ${b.path}: ${(e as Error).message}`, e);
    }
    if (wrote !== RECORD) throw unavailable(`short write to the replay cache file ${b.path} (disk full?)`);
    const first = this.catchUp(b, tag);
    if (first === undefined)
      throw unavailable(`the record just written to ${b.path} is not there: was the file replaced?`);
    return first;
  }
}
