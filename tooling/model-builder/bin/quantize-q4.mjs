#!/usr/bin/env node
// Writes onnx/model_q4.onnx of a transformers.js model directory from its fp32 onnx/model.onnx (every MatMul by a
// constant 2-D weight a 4-bit MatMulNBits, block 32, with zero points, as transformers.js' `dtype: 'q4'` loads it):
//   quantize-q4.mjs <modelDir>      (= write-dtype.mjs <modelDir> q4)
// Deterministic (round to nearest). Needs the package built (`npm run build -w tooling/model-builder`).
import { writeDtypeFile } from '../dist/index.js';

const [dir] = process.argv.slice(2);
if (!dir) {
  console.error('usage: quantize-q4.mjs <modelDir>   (reads onnx/model.onnx, writes onnx/model_q4.onnx)');
  process.exit(2);
}
try {
  const { file, bytes, summary } = await writeDtypeFile(dir, 'q4');
  console.log(`${file}: ${summary}, ${(bytes / 1e6).toFixed(1)} MB`);
} catch (e) {
  console.error(`error: ${e.message}`);
  process.exit(1);
}
