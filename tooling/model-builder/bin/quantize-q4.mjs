#!/usr/bin/env node
// Writes onnx/model_q4.onnx of a transformers.js model directory from its fp32 onnx/model.onnx: every MatMul by a
// constant 2-D weight becomes a 4-bit MatMulNBits (block 32, with zero points), as transformers.js' `dtype: 'q4'`
// loads it:   quantize-q4.mjs <modelDir>
// Deterministic (round to nearest). Needs the package built (`npm run build -w tooling/model-builder`).
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeModel, encodeModelBytes } from '@mor/onnx';
import { quantizeMatMulsNBits } from '../dist/index.js';

const [dir] = process.argv.slice(2);
if (!dir) {
  console.error('usage: quantize-q4.mjs <modelDir>   (reads onnx/model.onnx, writes onnx/model_q4.onnx)');
  process.exit(2);
}
const src = join(dir, 'onnx', 'model.onnx');
const dst = join(dir, 'onnx', 'model_q4.onnx');
const model = await decodeModel(readFileSync(src));
const report = quantizeMatMulsNBits(model);
if (report.quantized.length === 0) {
  console.error(`${src}: no MatMul with a constant 2-D float weight to quantize`);
  process.exit(1);
}
const bytes = encodeModelBytes(model);
const tmp = `${dst}.tmp-${process.pid}`;
writeFileSync(tmp, bytes);
renameSync(tmp, dst);
console.log(
  `${dst}: ${report.quantized.length} MatMulNBits (${report.elements} weights at 4 bits), ${(bytes.length / 1e6).toFixed(1)} MB`,
);
