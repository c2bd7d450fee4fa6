import { buildGpt2, buildLlama, buildQwen2 } from '../src/index.js';
import { decoderSuite } from './decoder-suite.js';

decoderSuite('llama', (o) => buildLlama(o));
decoderSuite('llama-gqa1', (o) =>
  buildLlama({ ...o, hidden: 48, heads: 6, kvHeads: 1, layers: 3, intermediate: 80 }),
);
decoderSuite('qwen2', (o) => buildQwen2(o));
decoderSuite('gpt2', (o) => buildGpt2(o));
decoderSuite('gpt2-gemm', (o) => buildGpt2({ ...o, conv1dForm: 'gemm' }));
decoderSuite('llama-q4', (o) => buildLlama({ ...o, quantize: 'matmulnbits' }));
