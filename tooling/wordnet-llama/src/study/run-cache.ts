// One JSON record per finished run of the quality study (bench/quality.mjs), keyed by a fingerprint of what
// decides its result, so a study that takes hours here can stop and resume — across sessions too — without
// training anything twice or reusing a run whose settings, base model or data changed.
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

/** JSON with object keys sorted at every depth: equal values give equal text. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** sha256 (hex) of a run's key: the same key (key order aside) gives the same fingerprint. */
export function fingerprint(key: unknown): string {
  return createHash('sha256').update(stableJson(key)).digest('hex');
}

/** sha256 (hex) of a file's bytes. */
export function fileDigest(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** What a record file holds. */
export interface RunRecord<T> {
  name: string;
  fingerprint: string;
  key: unknown;
  result: T;
}

/** Writes `text` to `file` through a temporary file and a rename: a reader sees the old file or the new one. */
function writeAtomicSync(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

export class RunCache {
  /** Records taken from the folder, and records written, by this instance. */
  hits = 0;
  misses = 0;

  /**
   * `dir`: the records' folder (made if missing). `inputs`: what every run depends on besides its own key
   * (digests of the base model and data files); it is part of every fingerprint.
   */
  constructor(
    readonly dir: string,
    readonly inputs: Record<string, string>,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  /** Number of record files in the folder. */
  get size(): number {
    return readdirSync(this.dir).filter((f) => f.endsWith('.json')).length;
  }

  /** The fingerprint of a run key together with the shared inputs. */
  fingerprintOf(key: unknown): string {
    return fingerprint({ key, inputs: this.inputs });
  }

  /**
   * The result recorded as `name` when its fingerprint matches `key`; otherwise `run()`'s result, recorded
   * (atomically) before it is returned. A record with another fingerprint is replaced. A file that is not a
   * record throws, naming the file, rather than being overwritten silently.
   */
  async get<T>(name: string, key: unknown, run: () => T | Promise<T>): Promise<T> {
    if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`run cache: bad record name "${name}"`);
    const file = join(this.dir, `${name}.json`);
    const fp = this.fingerprintOf(key);
    if (existsSync(file)) {
      let rec: RunRecord<T>;
      try {
        rec = JSON.parse(readFileSync(file, 'utf8')) as RunRecord<T>;
      } catch (e) {
        throw new Error(
          `${file}: not a run record (${(e as Error).message}); delete it to run that run again`,
        );
      }
      if (typeof rec?.fingerprint !== 'string' || !('result' in rec))
        throw new Error(`${file}: not a run record (no fingerprint/result); delete it to run that run again`);
      if (rec.fingerprint === fp) {
        this.hits++;
        return rec.result;
      }
    }
    const result = await run();
    const rec: RunRecord<T> = { name, fingerprint: fp, key, result };
    writeAtomicSync(file, `${JSON.stringify(rec, null, 2)}\n`);
    this.misses++;
    return result;
  }
}
