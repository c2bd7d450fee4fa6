import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SessionModel } from '../session-model.js';

/**
 * Writes `model` and its external data files to a fresh temporary directory, calls `open` with the model file's
 * path and removes the directory again. onnxruntime-node maps external data files rather than copying them:
 * opening a GiB-sized model this way takes a fraction of a second, where the same bytes handed over in memory
 * (inline or as `externalData`) take ~10 s per GiB. On Linux and macOS the mapping outlives the unlinked files.
 */
export async function openThroughTempDir<S>(
  model: SessionModel,
  open: (path: string) => Promise<S>,
): Promise<S> {
  const dir = await mkdtemp(join(tmpdir(), 'mor-session-'));
  try {
    await writeFile(join(dir, 'model.onnx'), model.bytes);
    for (const file of model.externalData) await writeFile(join(dir, file.path), file.data);
    return await open(join(dir, 'model.onnx'));
  } finally {
    // Windows refuses to delete files a live session maps: the directory then stays for the OS to clean.
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}
