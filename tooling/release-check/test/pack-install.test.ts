// Packs every publishable @mor/* package as `npm publish` would, installs the tarballs into a scratch project
// that depends on nothing else but @huggingface/transformers, and uses them from there as a user would: a greedy
// generation with the MoR adapter that must reproduce the PyTorch golden, the installed `mor` bin, type
// resolution of every export and of every name the READMEs import, and the browser entries' import graphs.
// The packages' dist must be built first (turbo: this workspace devDepends on them, so `^build` runs).
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exec } from './helpers/exec.js';
import { reachFrom } from './helpers/import-graph.js';
import { pack, type Packed } from './helpers/pack.js';
import {
  FREE_NAME_ERRORS,
  readmeImports,
  readmeImportsModule,
  readmeSnippets,
} from './helpers/readme-code.js';
import { PUBLISHABLE, REPO_ROOT, fixture } from './helpers/repo.js';
import { installScratchProject, usageExample } from './helpers/scratch-project.js';

interface KvGolden {
  prompt: string;
  prompt_ids: number[];
  max_new_tokens: number;
  greedy_mor: number[];
}

/** The packages built on @mor/engine (besides the CLI): their Node entries register its Node platform. */
const ON_ENGINE: readonly string[] = ['@mor/transformers', '@mor/trainer'];

const golden = JSON.parse(readFileSync(fixture('tiny-llama-kv/golden.json'), 'utf8')) as KvGolden;
const timings: Record<string, number> = {};
let scratch: string;
let modules: string;
const packs = new Map<string, Packed>();

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'mor-release-check-'));
  modules = join(scratch, 'node_modules');
  await mkdir(join(scratch, 'packs'));
  let t = performance.now();
  for (const p of await Promise.all(PUBLISHABLE.map((p) => pack(p, join(scratch, 'packs'))))) {
    packs.set(p.name, p);
  }
  timings[`npm pack (${PUBLISHABLE.length}, parallel)`] = Math.round(performance.now() - t);
  timings['npm install (scratch)'] = await installScratchProject(scratch, [...packs.values()]);
  t = performance.now();
  await cp(fixture('tiny-llama-kv'), join(scratch, 'tiny-llama-kv'), { recursive: true });
  timings['copy fixture'] = Math.round(performance.now() - t);
});

afterAll(async () => {
  console.log('release-check timings (ms):', timings);
  if (scratch && !process.env['MOR_KEEP_SCRATCH']) await rm(scratch, { recursive: true, force: true });
  else if (scratch) console.log('scratch project kept at', scratch);
});

describe.each(PUBLISHABLE)('tarball of $name', (p) => {
  const packed = (): Packed => packs.get(p.name)!;

  it('holds package.json, README.md and built files only (no sources, tests or build info)', () => {
    const { files } = packed();
    expect(files).toContain('package.json');
    expect(files).toContain('README.md');
    expect(files).toContain('LICENSE');
    const allowedRoots = p.name === '@mor/cli' ? ['dist/', 'bin/'] : ['dist/'];
    const strays = files.filter(
      (f) =>
        !['package.json', 'README.md', 'LICENSE'].includes(f) && !allowedRoots.some((r) => f.startsWith(r)),
    );
    expect(strays).toEqual([]);
    const sources = files.filter((f) => /(\.test\.|\.spec\.|\.tsbuildinfo$)|(?<!\.d)\.ts$/.test(f));
    expect(sources).toEqual([]);
  });

  it('has every file its exports, main, types and bin point to, with types first in each export', () => {
    const { files, pkg } = packed();
    const targets: string[] = [pkg.main!, pkg.types!, ...Object.values(pkg.bin ?? {})];
    for (const [key, value] of Object.entries(pkg.exports ?? {})) {
      if (key === './package.json') continue;
      expect(typeof value, `${p.name} exports["${key}"] must be a conditions object`).toBe('object');
      const conditions = value as Record<string, string>;
      expect(Object.keys(conditions)[0], `${p.name} exports["${key}"]`).toBe('types');
      targets.push(...Object.values(conditions));
    }
    for (const target of targets)
      expect(files, `${p.name}: ${target}`).toContain(target.replace(/^\.\//, ''));
  });

  it('carries the metadata npm and bundlers need', () => {
    const { pkg } = packed();
    expect(pkg.private).toBeUndefined();
    expect(pkg.license).toBe('Apache-2.0');
    // Only the Node files that register the Node platform on import have side effects: @mor/engine's, and the
    // Node entries of the packages on it, which import it.
    if (p.name === '@mor/engine')
      expect(pkg.sideEffects).toEqual([
        './dist/node/platform.js',
        './dist/node/entry.js',
        './dist/node/index.js',
      ]);
    else if (ON_ENGINE.includes(p.name))
      expect(pkg.sideEffects).toEqual(['./dist/node/entry.js', './dist/node/index.js']);
    else expect(pkg.sideEffects).toBe(false);
    expect(pkg.engines?.['node']).toMatch(/^>=\s*20/);
    expect(pkg.publishConfig?.access).toBe('public');
    expect(pkg.keywords?.length).toBeGreaterThan(0);
    expect(pkg.files).toEqual(
      p.name === '@mor/cli' ? ['dist', 'bin', 'README.md', 'LICENSE'] : ['dist', 'README.md', 'LICENSE'],
    );
    // The fixed group versions them together: an internal dependency names exactly that version.
    for (const [dep, range] of Object.entries({ ...pkg.dependencies, ...pkg.peerDependencies })) {
      if (dep.startsWith('@mor/')) expect(range, `${p.name} → ${dep}`).toBe(pkg.version);
    }
    // transformers.js is the host's: a peer of the library, a direct dependency of the CLI.
    const hf = '@huggingface/transformers';
    if (p.name === '@mor/engine' || ON_ENGINE.includes(p.name)) {
      expect(pkg.peerDependencies?.[hf]).toBeDefined();
      expect(pkg.dependencies?.[hf]).toBeUndefined();
    } else if (p.name === '@mor/cli') {
      expect(pkg.dependencies?.[hf]).toBeDefined();
    } else {
      expect({ ...pkg.dependencies, ...pkg.peerDependencies }[hf]).toBeUndefined();
    }
  });
});

describe('installed from the tarballs', () => {
  it('resolves each @mor/* package to the installed tarball, not the workspace', async () => {
    for (const p of PUBLISHABLE) {
      const installed = JSON.parse(await readFile(join(modules, p.name, 'package.json'), 'utf8')) as {
        version: string;
      };
      expect(installed.version).toBe(packs.get(p.name)!.pkg.version);
      // A copy, not a symlink back into the repo: its README came out of the tarball.
      expect(existsSync(join(modules, p.name, 'src'))).toBe(false);
    }
  });

  it('greedy-generates the golden MoR tokens through the published API (main entry and ./node), engine and trainer too', async () => {
    const script = join(scratch, 'example.mjs');
    await writeFile(script, usageExample(golden.prompt, golden.max_new_tokens));
    const { stdout, ms } = await exec(process.execPath, [script], { cwd: scratch });
    timings['usage example (2 loads + 2 generations)'] = ms;
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as {
      promptIds: number[];
      newIds: number[];
      viaNode: number[];
      resolved: string;
      devices: string[];
      rows: unknown[];
    };
    expect(result.resolved.startsWith(`file://${modules}/`)).toBe(true);
    expect(result.promptIds).toEqual(golden.prompt_ids);
    expect(result.newIds).toEqual(golden.greedy_mor);
    expect(result.viaNode).toEqual(golden.greedy_mor);
    expect(result.devices).toEqual(['cpu', 'webgpu', 'cuda']);
    expect(result.rows).toEqual([{ kind: 'text', line: 1, text: 'The small dog' }]);
  });

  it('runs the installed `mor` bin: --version and inspect on the adapter (9,312 parameters)', async () => {
    const bin = join(modules, '.bin', 'mor');
    const version = await exec(bin, ['--version'], { cwd: scratch });
    expect(version.stdout.trim()).toBe(packs.get('@mor/cli')!.pkg.version);
    const { stdout, ms } = await exec(bin, ['inspect', '--json', 'tiny-llama-kv/mor-adapter'], {
      cwd: scratch,
    });
    timings['mor inspect'] = ms;
    const description = JSON.parse(stdout) as {
      kind: string;
      trainable_parameters: number;
      modules: unknown[];
    };
    expect(description.kind).toBe('adapter');
    expect(description.trainable_parameters).toBe(9312);
    expect(description.modules).toHaveLength(6);
    const human = await exec(bin, ['inspect', 'tiny-llama-kv/mor-adapter'], { cwd: scratch });
    expect(human.stdout).toMatch(/parameters\s+9,312/);
  });

  it("type-checks a consumer of every export, and the READMEs' code against the published types", async () => {
    const readmes = PUBLISHABLE.map((p) => join(REPO_ROOT, 'packages', p.dir, 'README.md'));
    const readmeNames = readmes.flatMap(readmeImports);
    expect(readmeNames.length).toBeGreaterThan(20);
    const consumer = [
      "import { validateMorConfig, type MorConfig } from '@mor/core';",
      "import { parseAdapter, type Adapter } from '@mor/format';",
      "import { loadAdapter, pullAdapter } from '@mor/format/node';",
      "import { applyAdapter, type ModelProto } from '@mor/onnx';",
      "import { readModelFile } from '@mor/onnx/node';",
      "import { MorModelForCausalLM, type LoadWithAdapterOptions } from '@mor/transformers';",
      "import { checkDevice, TrainSession, type TrainBatch } from '@mor/engine';",
      "import { loadAdapterDir } from '@mor/engine/node';",
      "import { loadModel } from '@mor/transformers/node';",
      "import { runTrainLoop, type LoopState } from '@mor/trainer';",
      "import { trainAdapter } from '@mor/trainer/node';",
      "import { main, type CommandSpec } from '@mor/cli';",
      'export type Used = [MorConfig, Adapter, ModelProto, TrainBatch, LoadWithAdapterOptions, LoopState, CommandSpec];',
      'export const used = [validateMorConfig, parseAdapter, loadAdapter, pullAdapter, applyAdapter, readModelFile,',
      '  checkDevice, TrainSession, loadAdapterDir, MorModelForCausalLM, loadModel, runTrainLoop, trainAdapter, main];',
      readmeImportsModule(readmeNames),
    ].join('\n');
    await writeFile(join(scratch, 'consumer.ts'), consumer);
    const snippets: string[] = [];
    for (const [i, readme] of readmes.entries()) {
      for (const [j, code] of readmeSnippets(readme).entries()) {
        const file = `readme-${PUBLISHABLE[i]!.dir}-${j}.ts`;
        await writeFile(join(scratch, file), code);
        snippets.push(file);
      }
    }
    expect(snippets.length).toBeGreaterThanOrEqual(PUBLISHABLE.length);
    const tsconfig = {
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: [],
      },
      files: ['consumer.ts', ...snippets],
    };
    await writeFile(join(scratch, 'tsconfig.json'), JSON.stringify(tsconfig));
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const { stdout, ms } = await exec(process.execPath, [tsc, '-p', 'tsconfig.json', '--pretty', 'false'], {
      cwd: scratch,
      allowFailure: true,
    });
    timings['tsc consumer + README code'] = ms;
    const errors = stdout
      .split('\n')
      .filter((line) => /\berror TS\d+/.test(line))
      .filter(
        (line) => !(line.startsWith('readme-') && FREE_NAME_ERRORS.some((code) => line.includes(code))),
      );
    expect(errors).toEqual([]);
  });

  it.each(PUBLISHABLE.filter((p) => p.browserEntry))(
    "$name's main entry reaches no Node built-in and no node/ file, not even through dynamic imports",
    (p) => {
      const entry = join(modules, p.name, 'dist', 'index.js');
      const staticReach = reachFrom(modules, entry, false);
      expect(staticReach.builtins).toEqual([]);
      expect(staticReach.files.filter((f) => /\/dist\/node\//.test(f))).toEqual([]);
      // The walker does see Node built-ins where they are (a control for the check above).
      const nodeEntry = join(modules, p.name, 'dist', 'node', 'index.js');
      if (existsSync(nodeEntry)) expect(reachFrom(modules, nodeEntry, false).builtins).not.toEqual([]);
      // Not even behind a dynamic import: Node code is registered by the Node entry (@mor/engine/node).
      const all = reachFrom(modules, entry, true);
      expect(all.builtins).toEqual([]);
      expect(all.files.filter((f) => /\/dist\/node\//.test(f))).toEqual([]);
      // No Node globals (@mor/engine, and so the packages on it, only asks whether it runs in Node:
      // globalThis.process?.versions).
      if (p.name !== '@mor/engine' && !ON_ENGINE.includes(p.name)) expect(all.nodeGlobals).toEqual([]);
    },
  );
});
