import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MorInputError } from '@mor/engine';

/**
 * transformers.js' `dtype` → model file suffix (`DEFAULT_DTYPE_SUFFIX_MAPPING` in its `utils/dtypes.js`, which
 * the package does not export): `dtype: 'fp16'` loads `onnx/model_fp16.onnx`.
 */
export const DTYPE_SUFFIXES: Readonly<Record<string, string>> = {
  fp32: '',
  fp16: '_fp16',
  int8: '_int8',
  uint8: '_uint8',
  q8: '_quantized',
  q4: '_q4',
  q2: '_q2',
  q1: '_q1',
  q4f16: '_q4f16',
  q2f16: '_q2f16',
  q1f16: '_q1f16',
  bnb4: '_bnb4',
};

/** One ONNX model file of a model directory with the external data files beside it. */
export interface OnnxModelFile {
  /** File name inside `onnx/`, e.g. `model_fp16.onnx`. */
  name: string;
  /** External data file names (`model.onnx_data`, `model.onnx_data_1`, …). */
  externalData: string[];
  /** Size of the largest external data file (0 when none), to split the rewritten data the same way. */
  largestDataFile: number;
}

/** The ONNX files of `dir/onnx` to merge: all of them, or (with `dtype`) the one transformers.js loads for it. */
export async function listOnnxModelFiles(
  dir: string,
  dtype?: string,
): Promise<{ selected: OnnxModelFile[]; all: string[] }> {
  const onnxDir = join(dir, 'onnx');
  const all = (await readdir(onnxDir).catch(() => [] as string[])).sort();
  const models = all.filter((n) => n.endsWith('.onnx'));
  let names = models;
  if (dtype !== undefined) {
    const suffix = DTYPE_SUFFIXES[dtype];
    if (suffix === undefined) {
      throw new MorInputError(
        `unknown dtype "${dtype}": expected one of ${Object.keys(DTYPE_SUFFIXES).join(', ')}`,
      );
    }
    names = [`model${suffix}.onnx`].filter((n) => models.includes(n));
    if (names.length === 0)
      throw new MorInputError(`${onnxDir} has no model${suffix}.onnx for dtype ${dtype}`);
  }
  if (names.length === 0) throw new MorInputError(`${onnxDir} holds no .onnx model file`);
  const selected: OnnxModelFile[] = [];
  for (const name of names) {
    const externalData = all.filter((n) => n === `${name}_data` || n.startsWith(`${name}_data_`));
    let largestDataFile = 0;
    for (const f of externalData)
      largestDataFile = Math.max(largestDataFile, (await stat(join(onnxDir, f))).size);
    selected.push({ name, externalData, largestDataFile });
  }
  return { selected, all };
}
