import { writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { childEnv, exec } from './exec.js';
import type { Packed } from './pack.js';
import { lockedVersion } from './repo.js';

/**
 * Writes a consumer project in `dir` whose only dependencies are `@huggingface/transformers` (at the version the
 * repo's lockfile installs) and the packed tarballs, then installs it. `--prefer-offline` takes every tarball
 * `npm ci` already cached and asks the registry only for what the cache lacks (a fresh resolution may pick a
 * newer transitive version than the lockfile). onnxruntime-node's CPU runtime ships in its npm package;
 * `ONNXRUNTIME_NODE_INSTALL=skip` keeps its install script from downloading the CUDA provider.
 * @returns how long the install took, in ms.
 */
export async function installScratchProject(dir: string, packs: readonly Packed[]): Promise<number> {
  const dependencies: Record<string, string> = {
    '@huggingface/transformers': lockedVersion('@huggingface/transformers'),
  };
  for (const p of packs) dependencies[p.name] = `file:./packs/${basename(p.tarball)}`;
  const pkg = { name: 'mor-release-scratch', private: true, type: 'module', dependencies };
  await writeFile(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  const { ms } = await exec(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'],
    { cwd: dir, env: childEnv({ ONNXRUNTIME_NODE_INSTALL: 'skip' }), timeoutMs: 240_000 },
  );
  return ms;
}

/**
 * The usage example a user would write, run from the scratch project: the README's main-entry path
 * (`MorModelForCausalLM.from_pretrained` + transformers.js `generate()`) and the `./node` path (`loadModel` +
 * `generateText`), both greedy; the devices @mor/engine offers here and a data row read by @mor/trainer. Prints
 * one JSON line.
 */
export function usageExample(prompt: string, maxNewTokens: number): string {
  return `import { AutoTokenizer, env } from '@huggingface/transformers';
import { MorModelForCausalLM } from '@mor/transformers';
import { generateText, loadModel } from '@mor/transformers/node';
import { devicesHere } from '@mor/engine';
import { parseJsonlRows } from '@mor/trainer';
env.localModelPath = process.cwd() + '/';
env.allowRemoteModels = false;
const model = await MorModelForCausalLM.from_pretrained('tiny-llama-kv', { adapter: 'tiny-llama-kv/mor-adapter', dtype: 'fp32' });
const inputs = (await AutoTokenizer.from_pretrained('tiny-llama-kv'))(${JSON.stringify(prompt)});
const out = await model.generate({ ...inputs, max_new_tokens: ${maxNewTokens}, do_sample: false });
const loaded = await loadModel({ model: './tiny-llama-kv', adapter: './tiny-llama-kv/mor-adapter' });
const viaNode = await generateText({ model: loaded.model, tokenizer: loaded.tokenizer, prompt: ${JSON.stringify(prompt)}, maxNewTokens: ${maxNewTokens}, greedy: true });
console.log(JSON.stringify({ promptIds: Array.from(inputs.input_ids.data, Number), newIds: Array.from(out.data, Number).slice(inputs.input_ids.dims[1]), viaNode: viaNode.tokenIds, resolved: import.meta.resolve('@mor/transformers'), devices: devicesHere(), rows: parseJsonlRows('{"text":"The small dog"}\\n', 'data.jsonl') }));
`;
}
