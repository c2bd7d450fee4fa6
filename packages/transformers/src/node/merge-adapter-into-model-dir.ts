import { cp } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { mergeLora, mergeStaticGate, MergeError, type ModelProto } from '@mor/onnx';
import { readModelFile } from '@mor/onnx/node';
import { resolveAdapter, type AdapterInput } from '../adapter-input.js';
import { checkOptions, type OptionNames } from '../check-options.js';
import { MorInputError } from '@mor/engine';
import { ADAPTER_KIND_LABELS } from '@mor/format';
import { resolveGate, type GateSpec } from '../gate-spec.js';
import { checkOutputDir, writeDirAtomic } from './atomic-dir.js';
import { resolveModelSource } from './model-source.js';
import { listOnnxModelFiles, type OnnxModelFile } from './onnx-model-files.js';
import { writeModelFiles } from './write-model-files.js';

/** Options of {@link mergeAdapterIntoModelDir}. */
export interface MergeAdapterIntoModelDirOptions {
  /** A local transformers.js model directory (`config.json`, tokenizer files, `onnx/model*.onnx`). */
  model: string;
  /** The adapter: a directory or an `Adapter` from `@mor/format`. */
  adapter: AdapterInput;
  /** The fixed gate a MoR adapter is merged under (required for MoR; a LoRA takes none). */
  gate?: GateSpec;
  /** The model directory to write. */
  out: string;
  /**
   * Merge only the ONNX file transformers.js loads for this dtype (`fp32` → `onnx/model.onnx`, `fp16` →
   * `onnx/model_fp16.onnx`, …); the other ONNX files are left out of `out`. Default: every `onnx/*.onnx`.
   */
  dtype?: string;
  /** Replace `out` when it exists and is not empty. */
  overwrite?: boolean;
  /** Progress messages (one line each). */
  onProgress?: (message: string) => void;
}

/** What {@link mergeAdapterIntoModelDir} wrote. */
export interface MergeResult {
  out: string;
  /**
   * Per merged ONNX file (`onnx/model.onnx`, …): the adapter modules merged into it, and of those the ones whose
   * base weight is quantized (`onnx/model_q4.onnx`, `model_quantized.onnx`, …): their weight stays quantized and the
   * adapter is folded in beside it as a constant float32 rank-r branch (exact; see `MergeOptions` of `@mor/onnx`).
   */
  files: { file: string; modules: string[]; branched: string[] }[];
}

/**
 * Writes a complete model directory whose weights carry the adapter: `W' = W + (alpha/r)(B ⊙ M)A` for a MoR
 * adapter under a fixed gate (mor-spec.md §3), `W' = W + scaling·BA` for a LoRA. Every other file of the model
 * (config.json, generation_config.json, tokenizer files, …) is copied unchanged, so transformers.js loads `out`
 * as it loads `model`. fp16 weights stay fp16, shared weights are cloned; a quantized target layer (q4, q8, …) keeps
 * its quantized weight and gets the adapter as a constant float32 rank-r branch beside it, so the merged file
 * computes what the live adapter computes under the gate, without re-quantizing. The directory appears all at once
 * (built in a temporary folder beside `out`).
 *
 * A MoELoRA adapter is refused: its router mixes N full LoRAs per token, so no fixed weight delta equals it,
 * and it has no static gates to merge under.
 *
 * @throws {MorInputError} for a MoELoRA adapter, a MoR adapter without a gate, a gate on a LoRA, or a bad
 *   output path.
 * @throws {MergeError} naming the ONNX file and the layer that cannot be merged.
 */
const MERGE_OPTIONS = {
  model: true,
  adapter: true,
  gate: true,
  out: true,
  dtype: true,
  overwrite: true,
  onProgress: true,
} satisfies OptionNames<MergeAdapterIntoModelDirOptions>;

export async function mergeAdapterIntoModelDir(
  options: MergeAdapterIntoModelDirOptions,
): Promise<MergeResult> {
  checkOptions('mergeAdapterIntoModelDir', options, MERGE_OPTIONS);
  const source = await resolveModelSource(options.model);
  if (source.kind !== 'local') {
    throw new MorInputError(
      `model "${options.model}" is not a local directory: merging reads the model's files from disk (pull it first)`,
    );
  }
  const modelDir = source.dir;
  const out = resolve(options.out);
  if (out === modelDir || out.startsWith(`${modelDir}${sep}`) || modelDir.startsWith(`${out}${sep}`)) {
    throw new MorInputError(
      `output "${options.out}" must lie outside the model directory "${options.model}"`,
    );
  }
  await checkOutputDir(out, { overwrite: options.overwrite ?? false });
  const adapter = await resolveAdapter(options.adapter);
  if (adapter.kind === 'moelora') {
    throw new MorInputError(
      'a MoELoRA adapter cannot be merged: its router mixes the experts per token, so no fixed weight delta ' +
        'equals it (and MoELoRA has no static gates); run it unmerged (attachAdapter, mor generate --adapter)',
    );
  }
  let gate: number[] | undefined;
  if (adapter.kind === 'mor') {
    if (options.gate === undefined) {
      throw new MorInputError(
        'merging a MoR adapter needs a fixed gate (uniform, a JSON array of ' +
          `${adapter.config.experts} numbers, or a name from static_gates): the router is input-dependent`,
      );
    }
    gate = resolveGate(options.gate, adapter.config.experts, adapter.staticGates);
  } else if (options.gate !== undefined) {
    throw new MorInputError(
      `a gate applies to MoR adapters only; this adapter is a ${ADAPTER_KIND_LABELS[adapter.kind]}`,
    );
  }
  const { selected, all } = await listOnnxModelFiles(modelDir, options.dtype);
  // Read and merge every file before writing: a refusal must leave nothing behind.
  const merged: { file: OnnxModelFile; graph: ModelProto; modules: string[]; branched: string[] }[] = [];
  for (const file of selected) {
    const path = join(modelDir, 'onnx', file.name);
    options.onProgress?.(`merging into onnx/${file.name}`);
    const graph = await readModelFile(path);
    let layers;
    try {
      layers = adapter.kind === 'mor' ? mergeStaticGate(graph, adapter, gate!) : mergeLora(graph, adapter);
    } catch (e) {
      if (e instanceof MergeError) throw new MergeError(`onnx/${file.name}: ${e.module}`, stripPrefix(e));
      throw e;
    }
    const branched = [...layers].filter(([, l]) => l.quantized).map(([m]) => m);
    if (branched.length > 0)
      options.onProgress?.(
        `onnx/${file.name}: ${branched.length} of ${layers.size} modules have quantized weights: kept quantized, the adapter folded in beside them as a float32 branch`,
      );
    merged.push({ file, graph, modules: [...layers.keys()], branched });
  }
  // ONNX weight files are written below; the unselected ones would carry unmerged weights, so they stay out.
  const skip = new Set(all.filter((n) => n.endsWith('.onnx') || /\.onnx_data(_\d+)?$/.test(n)));
  await writeDirAtomic(
    out,
    async (tmp) => {
      await cp(modelDir, tmp, {
        recursive: true,
        filter: (src) => {
          const rel = relative(modelDir, src).split(sep);
          if (rel[0] === '.git') return false;
          return !(rel.length === 2 && rel[0] === 'onnx' && skip.has(rel[1]!));
        },
      });
      for (const { file, graph } of merged) {
        options.onProgress?.(`writing onnx/${file.name}`);
        await writeModelFiles(join(tmp, 'onnx', file.name), graph, {
          // Keep the source's layout: transformers.js reads external data only when config.json says so.
          ...(file.externalData.length > 0 ? { externalDataThreshold: 1024 } : {}),
          ...(file.externalData.length > 1 ? { maxExternalFileBytes: file.largestDataFile } : {}),
        });
      }
    },
    { overwrite: options.overwrite ?? false },
  );
  return {
    out,
    files: merged.map((m) => ({ file: `onnx/${m.file.name}`, modules: m.modules, branched: m.branched })),
  };
}

/** A MergeError's message without its "cannot merge into MODULE: " prefix, to re-wrap it with the file name. */
function stripPrefix(e: MergeError): string {
  const prefix = `cannot merge into ${e.module}: `;
  return e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
}
