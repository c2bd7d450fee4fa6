#!/usr/bin/env node
// Writes the transformers.js dtype files of a model directory from its fp32 onnx/model.onnx:
//   write-dtype.mjs <modelDir> <fp16|q4|q4f16|q8>...   →  onnx/model_fp16.onnx, model_q4.onnx, model_q4f16.onnx,
//   model_quantized.onnx
// fp16: every float tensor and activation float16; q4: constant-weight MatMuls as 4-bit MatMulNBits (block 32, zero
// points); q4f16: the fp16 graph quantized so (float16 scales and activations); q8: onnxruntime's dynamic
// quantization (DynamicQuantizeLinear + MatMulInteger, int8 weights, uint8 for GQA graphs). Deterministic.
// Needs the package built (`npm run build -w tooling/model-builder`).
import { DERIVED_DTYPES, writeDtypeFile } from '../dist/index.js';

const [dir, ...dtypes] = process.argv.slice(2);
if (!dir || dtypes.length === 0) {
  console.error(`usage: write-dtype.mjs <modelDir> <${Object.keys(DERIVED_DTYPES).join('|')}>...`);
  process.exit(2);
}
for (const dtype of dtypes) {
  try {
    const { file, bytes, summary } = await writeDtypeFile(dir, dtype);
    console.log(`${file}: ${summary}, ${(bytes / 1e6).toFixed(1)} MB`);
  } catch (e) {
    console.error(`error: ${e.message}`);
    process.exit(1);
  }
}
