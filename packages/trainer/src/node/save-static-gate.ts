import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ADAPTER_CONFIG_FILE } from '@mor/format';
import { writeFileAtomic } from '@mor/format/node';
import { MorInputError } from '@mor/engine';

/**
 * Stores `gate` as `static_gates[name]` in a MoR adapter directory's adapter_config.json, so `--gate NAME` finds
 * it. Only that key changes: the JSON is edited as read (other keys and their order stay) and written
 * atomically (temporary file + rename). An entry of the same name is replaced.
 */
export async function saveStaticGate(
  adapterDir: string,
  name: string,
  gate: readonly number[],
): Promise<void> {
  if (name === '' || name === 'uniform' || name.trim().startsWith('[')) {
    throw new MorInputError(`"${name}" cannot name a static gate (it would read as a gate spec)`);
  }
  const path = join(adapterDir, ADAPTER_CONFIG_FILE);
  const config = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  if (config['peft_type'] !== 'MOR') throw new MorInputError(`${path}: static gates belong to MoR adapters`);
  if (gate.length !== config['num_experts'] || !gate.every((g) => Number.isFinite(g))) {
    throw new MorInputError(`${path}: a gate needs ${String(config['num_experts'])} finite numbers`);
  }
  const existing = config['static_gates'];
  const gates =
    typeof existing === 'object' && existing !== null ? (existing as Record<string, unknown>) : {};
  config['static_gates'] = { ...gates, [name]: [...gate] };
  await writeFileAtomic(path, `${JSON.stringify(config, null, 2)}\n`);
}
