// A full disk (ENOSPC, injected through @mor/format's test-only seam into the one atomic writer every file goes
// through) while writing a checkpoint, an adapter and a merged model: the previous complete files stay, byte for
// byte, nothing half-written is left beside them, and the error names the file and says what happened.
import { createHash } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileWriteError } from '@mor/format/node';
import { injectWriteFault } from '@mor/format/testing';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { mergeAdapterIntoModelDir, writeDirAtomic } from '@mor/transformers/node';
import { TRAIN_LOCK_FILE, trainAdapter, type TrainAdapterOptions } from '../src/node/index.js';
import { fixture, scratch } from './helpers.js';

const EXAMPLES = fileURLToPath(new URL('../../../examples/data/', import.meta.url));
const dirs: string[] = [];
afterEach(() => injectWriteFault(null));
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function out(): Promise<string> {
  const d = await scratch('mor-enospc-');
  dirs.push(d);
  return d;
}

/** Every file under `dir`, hidden ones included: relative path → sha256 of its bytes (deep-equal on MBs is slow). */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) {
      const path = join(e.parentPath, e.name);
      const bytes = await readFile(path);
      files.set(relative(dir, path), createHash('sha256').update(bytes).digest('hex'));
    }
  }
  return files;
}

async function writeFailure(p: Promise<unknown>): Promise<FileWriteError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(FileWriteError);
  return e as FileWriteError;
}

const train = (o: Partial<TrainAdapterOptions> & { out: string }) =>
  trainAdapter({
    model: fixture('tiny-llama'),
    data: join(EXAMPLES, 'multitask.jsonl'),
    targets: ['gate_proj', 'up_proj', 'down_proj'],
    rank: 4,
    experts: 4,
    lr: 1e-2,
    batchSize: 4,
    seed: 11,
    maxSteps: 4,
    ...o,
  });

describe('a full disk', () => {
  it('while writing a checkpoint keeps the earlier ones (save total limit 1 deletes nothing) and names the file', async () => {
    const [reference, dir] = [await out(), await out()];
    await train({ saveEvery: 1, out: reference });
    // The disk fills 2 KiB into checkpoint-3 (its files are built in a hidden temporary folder first).
    injectWriteFault({ afterBytes: 2048, match: (p) => p.includes('.checkpoint-3.tmp-') });
    const e = await writeFailure(train({ saveEvery: 1, saveTotalLimit: 1, out: dir }));
    expect(e.message).toMatch(
      new RegExp(
        `^cannot write ${dir}/checkpoint-3/[a-z_]+\\.(safetensors|json): no space left on device \\(ENOSPC\\)$`,
      ),
    );
    expect(e.code).toBe('ENOSPC');
    // checkpoint-2 was complete, so checkpoint-1 went; checkpoint-2 stays whole because checkpoint-3 never was.
    expect((await readdir(dir)).sort()).toEqual(['checkpoint-2']); // no temporary folder, no lock file
    expect(await snapshot(join(dir, 'checkpoint-2'))).toEqual(
      await snapshot(join(reference, 'checkpoint-2')),
    );
  });

  it('while writing the trained adapter keeps the previous run’s adapter and summary byte for byte', async () => {
    const dir = await out();
    await train({ maxSteps: 2, out: dir });
    const before = await snapshot(dir);
    expect([...before.keys()].sort()).toEqual([
      'adapter_config.json',
      'adapter_model.safetensors',
      'training_summary.json',
    ]);
    for (const [file, afterBytes] of [
      ['adapter_model.safetensors', 1000],
      ['adapter_config.json', 10], // the weights are complete by then: they must not have replaced the old ones
      ['training_summary.json', 10], // and so is the whole adapter: it must not stand beside the old summary
    ] as const) {
      injectWriteFault({ afterBytes, match: (p) => p === join(dir, file) });
      const e = await writeFailure(train({ maxSteps: 3, out: dir }));
      expect(e.message).toBe(`cannot write ${join(dir, file)}: no space left on device (ENOSPC)`);
      injectWriteFault(null);
      expect(await snapshot(dir)).toEqual(before);
    }
    expect(await readdir(dir)).not.toContain(TRAIN_LOCK_FILE);
  });

  it('while writing a merged model over an earlier merge keeps the earlier one byte for byte', async () => {
    const parent = await out();
    const merged = join(parent, 'merged');
    const merge = (gate: string) =>
      mergeAdapterIntoModelDir({
        model: fixture('tiny-llama'),
        adapter: fixture('tiny-llama/mor-adapter'),
        gate,
        out: merged,
        overwrite: true,
      });
    await merge('uniform');
    const before = await snapshot(merged);
    injectWriteFault({ afterBytes: 4096, match: (p) => p.endsWith('/onnx/model.onnx') });
    const e = await writeFailure(merge('[1, 0, 0, 0]'));
    expect(e.message).toBe(`cannot write ${merged}/onnx/model.onnx: no space left on device (ENOSPC)`);
    expect(await snapshot(merged)).toEqual(before);
    expect(await readdir(parent)).toEqual(['merged']); // the temporary folder is gone
  });

  it('a copy failing inside writeDirAtomic (Node names only the temporary path) is reported under the target', async () => {
    const parent = await out();
    const target = join(parent, 'dir');
    // What fs.cp throws on a full disk: the code, and the destination inside the temporary folder.
    const fill = async (tmp: string) => {
      const dest = join(tmp, 'tokenizer.json');
      throw Object.assign(new Error(`ENOSPC: no space left on device, copyfile 'a' -> '${dest}'`), {
        code: 'ENOSPC',
        syscall: 'copyfile',
        dest,
      });
    };
    const e = await writeFailure(writeDirAtomic(target, fill));
    expect(e.message).toBe(`cannot write ${target}/tokenizer.json: no space left on device (ENOSPC)`);
    expect(await readdir(parent)).toEqual([]);
  });
});
