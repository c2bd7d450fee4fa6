import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildLlama, writeModelDir, type BuiltModel } from '@mor/model-builder';
import { decodeModel, encodeModelBytes } from '@mor/onnx';
import { TrainSession } from '@mor/engine';
import { setInitializers } from '@mor/trainer/node';
import { BpeEncoder } from './bpe-encoder.js';
import { buildCorpus, shuffleInPlace } from './corpus.js';
import { WORDNET_LLAMA } from './model-options.js';
import { packRows, packedBatch, lrAt } from './pack.js';
import { readWordNet, wordnetDbDictDir } from './parse-wordnet.js';
import { SPECIAL_TOKENS, WORDNET_VOCAB_SIZE, tokenizerConfigJson, tokenizerJson } from './tokenizer-files.js';
import { trainBpe } from './train-bpe.js';

/** Options of {@link pretrain}. */
export interface PretrainOptions {
  /** Output model directory (config, tokenizer, `onnx/model.onnx` with KV cache). */
  out: string;
  /** Optimizer steps. */
  steps: number;
  /** Rows per step. Default 8. */
  batchSize?: number;
  /** Tokens per packed row. Default 128. */
  seqLength?: number;
  /** Peak learning rate. Default 2e-3. */
  lr?: number;
  /** Warm-up steps. Default 5 % of `steps`. */
  warmup?: number;
  /** Seed of the corpus shuffle, the weight init and the batch order. Default 0. */
  seed?: number;
  /** JSON lines per step (and per evaluation) are appended here. */
  logFile: string;
  /** Evaluate on held-out rows every this many steps (and at the end). Default 250. */
  evalEvery?: number;
  /** Held-out rows per evaluation. Default 64. */
  evalRows?: number;
  /** Write the model directory every this many steps, so a stopped run leaves weights. Default 500. */
  saveEvery?: number;
  /** onnxruntime intra-op threads. Default 2. */
  threads?: number;
}

/** What {@link pretrain} did. */
export interface PretrainResult {
  steps: number;
  tokensSeen: number;
  seconds: number;
  finalTrainLoss: number;
  heldOutLoss: number;
  trainRows: number;
  heldOutRows: number;
}

const log = (file: string, entry: Record<string, unknown>) =>
  appendFileSync(file, `${JSON.stringify(entry)}\n`);

/**
 * The whole recipe of `models/wordnet-llama`: WordNet → corpus (held-out split, seeded shuffle) → byte-level BPE
 * (4096) → random Llama (model builder) → full pretraining of every weight with our engine (AdamW, warm-up +
 * cosine, clipping 1.0, packed rows) → the trained weights in the KV-cache graph of the same options.
 */
export async function pretrain(opts: PretrainOptions): Promise<PretrainResult> {
  const seed = opts.seed ?? 0;
  const batchSize = opts.batchSize ?? 8;
  const seqLength = opts.seqLength ?? 128;
  const peak = opts.lr ?? 2e-3;
  const warmup = opts.warmup ?? Math.max(1, Math.round(opts.steps * 0.05));
  const evalEvery = opts.evalEvery ?? 250;
  const saveEvery = opts.saveEvery ?? 500;
  const t0 = Date.now();
  mkdirSync(dirname(opts.logFile), { recursive: true });
  const elapsed = () => (Date.now() - t0) / 1000;

  const docs = buildCorpus(readWordNet(wordnetDbDictDir()), { seed });
  const train = docs.filter((d) => !d.heldOut).map((d) => d.text);
  const heldOut = docs.filter((d) => d.heldOut).map((d) => d.text);
  const bpe = trainBpe(train, { vocabSize: WORDNET_VOCAB_SIZE, specialTokens: SPECIAL_TOKENS });
  const enc = new BpeEncoder(bpe);
  const [bos, eos] = [bpe.vocab.get('<s>')!, bpe.vocab.get('</s>')!];
  const trainRows = packRows(
    train.map((t) => enc.encode(t)),
    seqLength,
    bos,
    eos,
  );
  const heldRows = packRows(
    heldOut.map((t) => enc.encode(t)),
    seqLength,
    bos,
    eos,
  );
  log(opts.logFile, {
    event: 'data',
    synsets: docs.length,
    trainDocs: train.length,
    heldOutDocs: heldOut.length,
    trainRows: trainRows.length,
    heldOutRows: heldRows.length,
    merges: bpe.merges.length,
    seconds: elapsed(),
  });

  const files = { tokenizer: tokenizerJson(bpe), tokenizerConfig: tokenizerConfigJson(2048) };
  const trainModel = buildLlama({ ...WORDNET_LLAMA, seed, withoutKvCache: true });
  const graph = await decodeModel(trainModel.onnx);
  const fullTargets = graph
    .graph!.initializer.filter((t) => t.dims.length >= 1 && t.dataType === 1)
    .map((t) => t.name);
  const session = await TrainSession.create({
    model: trainModel.onnx,
    task: 'causal-lm',
    method: 'full',
    fullTargets,
    optimizer: { kind: 'adamw', lr: peak, weightDecay: 0.01, maxGradNorm: 1 },
    sessionOptions: { intraOpNumThreads: opts.threads ?? 2, interOpNumThreads: 1 },
  });
  log(opts.logFile, { event: 'session', fullTargets: fullTargets.length, seconds: elapsed() });

  const evalRows = heldRows.slice(0, opts.evalRows ?? 64);
  const evaluate = async (): Promise<number> => {
    let sum = 0;
    let n = 0;
    for (let i = 0; i < evalRows.length; i += batchSize) {
      const r = await session.evaluate(packedBatch(evalRows.slice(i, i + batchSize)));
      sum += r.loss * r.tokens;
      n += r.tokens;
    }
    return sum / n;
  };

  const save = async (step: number) => {
    const kv = buildLlama({ ...WORDNET_LLAMA, seed });
    const kvGraph = await decodeModel(kv.onnx);
    setInitializers(kvGraph, await session.getParameters());
    const built: BuiltModel = {
      ...kv,
      onnx: encodeModelBytes(kvGraph),
      tokenizer: files.tokenizer,
      tokenizerConfig: files.tokenizerConfig,
      config: { ...kv.config, max_position_embeddings: 2048 },
    };
    await writeModelDir(opts.out, built);
    log(opts.logFile, { event: 'save', step, seconds: elapsed() });
  };

  // Batch order: a seeded permutation of the rows, re-drawn each epoch.
  const order: number[] = [];
  let epoch = 0;
  const nextRows = (): Int32Array[] => {
    const rows: Int32Array[] = [];
    while (rows.length < batchSize) {
      if (order.length === 0) {
        const perm = Array.from(trainRows.keys());
        shuffleInPlace(perm, seed * 1000 + epoch++);
        order.push(...perm);
      }
      rows.push(trainRows[order.pop()!]!);
    }
    return rows;
  };

  let tokensSeen = 0;
  let lastLoss = NaN;
  for (let step = 0; step < opts.steps; step++) {
    const lr = lrAt(step, opts.steps, peak, warmup);
    const r = await session.step(packedBatch(nextRows()), { lr });
    tokensSeen += batchSize * seqLength;
    lastLoss = r.loss;
    log(opts.logFile, {
      step: step + 1,
      loss: r.loss,
      lr,
      gradNorm: r.gradNorm,
      tokensSeen,
      seconds: elapsed(),
    });
    if ((step + 1) % evalEvery === 0)
      log(opts.logFile, { event: 'eval', step: step + 1, heldOutLoss: await evaluate() });
    if ((step + 1) % saveEvery === 0) await save(step + 1);
  }
  const heldOutLoss = await evaluate();
  log(opts.logFile, { event: 'eval', step: opts.steps, heldOutLoss, final: true });
  await save(opts.steps);
  await session.dispose();
  const result = {
    steps: opts.steps,
    tokensSeen,
    seconds: elapsed(),
    finalTrainLoss: lastLoss,
    heldOutLoss,
    trainRows: trainRows.length,
    heldOutRows: heldRows.length,
  };
  log(opts.logFile, { event: 'done', ...result });
  mkdirSync(opts.out, { recursive: true });
  writeFileSync(join(opts.out, 'pretrain-summary.json'), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}
