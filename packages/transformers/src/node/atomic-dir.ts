import { mkdir, mkdtemp, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { FileWriteError } from '@mor/format/node';
import { MorInputError } from '@mor/engine';

/** Options of {@link writeDirAtomic}. */
export interface WriteDirAtomicOptions {
  /** Replace a non-empty `out`; without it such a directory is refused and left alone. */
  overwrite?: boolean;
}

/**
 * Refuses an output path {@link writeDirAtomic} would refuse, so a caller can fail before long work: a file, or a
 * non-empty directory without `overwrite`.
 */
export async function checkOutputDir(out: string, options: WriteDirAtomicOptions = {}): Promise<void> {
  const existing = await stat(out).catch(() => null);
  if (existing && !existing.isDirectory()) throw new MorInputError(`output "${out}" exists and is a file`);
  if (existing && !options.overwrite && (await readdir(out)).length > 0) {
    throw new MorInputError(`output directory "${out}" exists and is not empty (remove it or overwrite it)`);
  }
}

/**
 * Builds a directory atomically: `fill` writes into a fresh temporary directory next to `out` (same file
 * system, so the final rename cannot degrade into a copy), which is then renamed to `out`. A failure removes the
 * temporary directory and leaves `out` as it was (a {@link FileWriteError} from `fill` — a full disk — names the
 * file under `out`). An existing empty `out` is replaced; a non-empty one only with `overwrite` (the old one is
 * moved aside first and deleted after the rename). Missing parent folders of `out` are created (`mor init --out
 * a/b/c`), and removed again when the build fails.
 */
export async function writeDirAtomic(
  out: string,
  fill: (tmpDir: string) => Promise<void>,
  options: WriteDirAtomicOptions = {},
): Promise<void> {
  const target = resolve(out);
  await checkOutputDir(target, options);
  const existing = await stat(target).catch(() => null);
  // The first parent folder this call made (undefined when they all existed), to undo on failure.
  const createdParent = await mkdir(dirname(target), { recursive: true });
  let tmp: string;
  try {
    tmp = await mkdtemp(join(dirname(target), `.${basename(target)}.tmp-`));
  } catch (e) {
    await removeCreatedParents(dirname(target), createdParent);
    throw e;
  }
  let aside: string | null = null;
  try {
    await fill(tmp);
    if (existing) {
      aside = `${tmp}.old`;
      await rename(target, aside);
    }
    await rename(tmp, target);
  } catch (e) {
    if (aside) await rename(aside, target).catch(() => undefined);
    await rm(tmp, { recursive: true, force: true });
    await removeCreatedParents(dirname(target), createdParent);
    throw asWriteError(e, tmp)?.relocated(tmp, target) ?? e;
  }
  if (aside) await rm(aside, { recursive: true, force: true });
}

/**
 * Removes the parent folders {@link writeDirAtomic} made, from `dir` up to `created`, while they are empty
 * (`rmdir` refuses a folder something else has written into meanwhile, which then stays).
 */
async function removeCreatedParents(dir: string, created: string | undefined): Promise<void> {
  if (created === undefined) return;
  for (let d = dir; ; d = dirname(d)) {
    if (
      !(await rmdir(d).then(
        () => true,
        () => false,
      )) ||
      d === created ||
      dirname(d) === d
    )
      return;
  }
}

/**
 * A failure to write into `tmp` as a {@link FileWriteError} (the atomic writer's own, or a file-system error of a
 * copy, whose Node message names only temporary paths), so it can be named where the user will look for it;
 * null for anything else.
 */
function asWriteError(e: unknown, tmp: string): FileWriteError | null {
  if (e instanceof FileWriteError) return e;
  const { code, dest, path } = (e ?? {}) as NodeJS.ErrnoException & { dest?: string };
  const where = [dest, path].find((p) => typeof p === 'string' && p.startsWith(`${tmp}${sep}`));
  return code !== undefined && where !== undefined ? FileWriteError.from(e, where) : null;
}
