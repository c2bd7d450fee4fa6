import {
  forwardLogits,
  resolveAdapter,
  type AdapterInput,
  checkOptions,
  type OptionNames,
} from '@mor/transformers';
import { MorInputError } from '@mor/engine';
import { loadModel } from '@mor/transformers/node';
import { readTokenRows } from './read-token-rows.js';
import { saveStaticGate } from './save-static-gate.js';

/** Options of {@link routerStatistics}. */
export interface RouterStatisticsOptions {
  /** A local model directory or a Hub id. */
  model: string;
  /** A MoR adapter: a directory, or an `Adapter` from `@mor/format`. */
  adapter: AdapterInput;
  /** A JSONL data file (docs/cli.md "Data rows"); every token of every row counts. */
  data: string;
  /** Truncate each row to this many tokens. */
  maxLength?: number;
  /** `cpu` (default), `webgpu`, `cuda`. */
  device?: string;
  /** transformers.js dtype of the model file to run. */
  dtype?: string;
  /** Store the overall mean gate as `static_gates[saveAs]` in the adapter directory (`adapter` must be a path). */
  saveAs?: string;
  /** Progress messages. */
  onProgress?: (message: string) => void;
}

/** Mean router gates over a data set. */
export interface RouterStatistics {
  /** Per adapted module: the mean gate over all tokens, `[N]` (sums to 1). */
  layers: Record<string, number[]>;
  /** The mean of the layer means, `[N]`: a fixed gate usable as `--gate`. */
  overall: number[];
  rows: number;
  tokens: number;
}

const GATE_PREFIX = 'mor_gates.';

/**
 * Runs a MoR adapter's routers over a data set and averages their gates per layer and overall. The overall
 * mean is the natural fixed gate for merging or exporting the adapter (mor-spec.md §1, static routing: "the
 * mean gate over a data set"); with `saveAs` it is stored in the adapter's `static_gates`.
 */
const ROUTER_STATISTICS_OPTIONS = {
  model: true,
  adapter: true,
  data: true,
  maxLength: true,
  device: true,
  dtype: true,
  saveAs: true,
  onProgress: true,
} satisfies OptionNames<RouterStatisticsOptions>;

export async function routerStatistics(options: RouterStatisticsOptions): Promise<RouterStatistics> {
  checkOptions('routerStatistics', options, ROUTER_STATISTICS_OPTIONS);
  const adapter = await resolveAdapter(options.adapter);
  if (adapter.kind === 'lora')
    throw new MorInputError('router statistics need a MoR or MoELoRA adapter (a LoRA has no router)');
  if (options.saveAs !== undefined && adapter.kind === 'moelora')
    throw new MorInputError(
      'saveAs writes a static gate, and a MoELoRA adapter has none (its router is part of it)',
    );
  if (options.saveAs !== undefined && typeof options.adapter !== 'string') {
    throw new MorInputError('saveAs needs the adapter as a directory path, to write its adapter_config.json');
  }
  const loaded = await loadModel({
    model: options.model,
    adapter,
    exposeGates: true,
    ...(options.device !== undefined ? { device: options.device } : {}),
    ...(options.dtype !== undefined ? { dtype: options.dtype } : {}),
  });
  const n = adapter.config.experts;
  const sums = new Map<string, Float64Array>();
  let tokens = 0;
  let rows: number[][];
  try {
    rows = await readTokenRows({
      file: options.data,
      tokenizer: loaded.tokenizer,
      ...(options.maxLength !== undefined ? { maxLength: options.maxLength } : {}),
    });
    // One row at a time: no padding, so every gate row is a real token.
    for (const [i, ids] of rows.entries()) {
      // A line per tenth of the data: progress without flooding a log.
      if ((i + 1) % Math.max(1, Math.ceil(rows.length / 10)) === 0 || i + 1 === rows.length)
        options.onProgress?.(`row ${i + 1}/${rows.length}`);
      const { extra } = await forwardLogits(loaded.model, [ids]);
      for (const [name, g] of Object.entries(extra)) {
        if (!name.startsWith(GATE_PREFIX)) continue;
        const sum = sums.get(name) ?? new Float64Array(n);
        for (let j = 0; j < g.data.length; j++) sum[j % n]! += g.data[j]!;
        sums.set(name, sum);
      }
      tokens += ids.length;
    }
  } finally {
    await loaded.model.dispose();
  }
  if (sums.size === 0) throw new MorInputError('the adapted model reported no router gates');
  const layers: Record<string, number[]> = {};
  const overall = new Array<number>(n).fill(0);
  for (const [name, sum] of [...sums].sort(([a], [b]) => a.localeCompare(b))) {
    const mean = Array.from(sum, (s) => s / tokens);
    layers[name.slice(GATE_PREFIX.length)] = mean;
    mean.forEach((m, j) => (overall[j]! += m / sums.size));
  }
  if (options.saveAs !== undefined) await saveStaticGate(options.adapter as string, options.saveAs, overall);
  return { layers, overall, rows: rows.length, tokens };
}
