import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

const CHECKPOINT = /^checkpoint-(\d+)$/;

/**
 * The checkpoints `limit` lets go, oldest first, from `sorted` (folder names, oldest first), as transformers'
 * Trainer (`_rotate_checkpoints`) picks them: the newest `limit` stay, but the best checkpoint always stays —
 * moved just before the newest, so it displaces the oldest of those, and with a limit of 1 it stays beside the
 * newest (two remain).
 */
export function checkpointsToDelete(sorted: readonly string[], limit: number, best: string | null): string[] {
  if (sorted.length <= limit) return [];
  const order = [...sorted];
  const at = best === null ? -1 : order.indexOf(best);
  if (at >= 0 && at < order.length - 1) {
    order.splice(at, 1);
    order.splice(order.length - 1, 0, best!);
  }
  const keep = limit === 1 && at >= 0 && at < sorted.length - 1 ? 2 : limit;
  return order.slice(0, Math.max(0, order.length - keep));
}

/**
 * Deletes the `checkpoint-STEP` folders of `out` that {@link checkpointsToDelete} picks (ordered by step).
 * Called only after the newest checkpoint is completely written, so a crash never leaves fewer than `limit`.
 * @returns the folder names deleted.
 */
export async function rotateCheckpoints(out: string, limit: number, best: string | null): Promise<string[]> {
  const sorted = (await readdir(out, { withFileTypes: true }))
    .filter((e) => e.isDirectory() && CHECKPOINT.test(e.name))
    .map((e) => e.name)
    .sort((a, b) => Number(CHECKPOINT.exec(a)![1]) - Number(CHECKPOINT.exec(b)![1]));
  const doomed = checkpointsToDelete(sorted, limit, best);
  for (const name of doomed) await rm(join(out, name), { recursive: true, force: true });
  return doomed;
}
