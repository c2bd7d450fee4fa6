import { rmSync } from 'node:fs';
import { copyFile, link, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { SessionModel } from '../session-model.js';
import type { StagedModels } from '../platform.js';

/** Staged directories not removed yet: removed when the process exits (a session that was never disposed). */
const live = new Set<string>();
let exitHook = false;
function track(dir: string): void {
  live.add(dir);
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const d of live) rmSync(d, { recursive: true, force: true });
  });
}

/**
 * Writes `models` to one fresh temporary directory, `<name>.onnx` each. External data files are shared: an
 * entry whose path another model already wrote with the same bytes (the same tensor: a train graph and its eval
 * graph hold the same base weights) is written once, so onnxruntime maps one file from both sessions. A model
 * whose entry names another's file with different bytes goes to its own subdirectory. Files of `linked.dir`
 * (the model's own external data, never read into memory) are linked beside the models. `remove()` deletes it
 * all (links, not their targets).
 */
export async function stageModelFiles(
  models: Record<string, SessionModel>,
  linked: { dir: string; files: readonly string[] } | null = null,
): Promise<StagedModels> {
  const dir = await mkdtemp(join(tmpdir(), 'mor-session-'));
  track(dir);
  const paths = new Map<string, string>();
  try {
    const written = new Map<string, Uint8Array>();
    for (const [name, model] of Object.entries(models)) {
      const clash = model.externalData.find((f) => linked?.files.includes(f.path));
      if (clash)
        throw new Error(`${name}: external data file ${clash.path} is also one of the model's own files`);
      const shared = model.externalData.every((f) => (written.get(f.path) ?? f.data) === f.data);
      const at = shared ? dir : join(dir, name);
      if (!shared) await mkdir(at);
      if (linked && (!shared || paths.size === 0))
        for (const f of linked.files) await linkFile(resolve(linked.dir, f), join(at, f));
      for (const f of model.externalData) {
        if (shared && written.has(f.path)) continue;
        await writeFile(join(at, f.path), f.data);
        if (shared) written.set(f.path, f.data);
      }
      const file = join(at, `${name}.onnx`);
      await writeFile(file, model.bytes);
      paths.set(name, file);
    }
  } catch (error) {
    await removeDir(dir);
    throw error;
  }
  return {
    path(name) {
      const p = paths.get(name);
      if (!p) throw new Error(`no staged model "${name}" (staged: ${[...paths.keys()].join(', ')})`);
      return p;
    },
    remove: () => removeDir(dir),
  };
}

/** A hard link to `source` (same file system), else a symbolic link, else a copy. */
async function linkFile(source: string, target: string): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  await link(source, target).catch(() => symlink(source, target).catch(() => copyFile(source, target)));
}

async function removeDir(dir: string): Promise<void> {
  live.delete(dir);
  // Windows refuses to delete files a live session maps: the directory then stays for the OS to clean.
  await rm(dir, { recursive: true, force: true }).catch(() => undefined);
}

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
  const staged = await stageModelFiles({ model });
  try {
    return await open(staged.path('model'));
  } finally {
    await staged.remove();
  }
}
