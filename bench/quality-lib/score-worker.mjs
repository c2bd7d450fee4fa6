#!/usr/bin/env node
// One scoring job of bench/quality.mjs, in its own process (so every model's memory goes with it):
//   node bench/quality-lib/score-worker.mjs JOB.json
// JOB: {"model", "adapter"?, "data", "limitPerTask"?, "maxNewTokens", "gates"?, "out"}. Greedy-decodes every
// prompt of the data file (the first limitPerTask rows of each task), scores the continuations with the
// benchmark's scorer, and with "gates" runs the router (MoR or MoELoRA) over each prompt and counts, per task,
// the mean gate and the top expert of every (token, layer). Writes {"predictions", "accuracy", "gates"?,
// "seconds"} to "out".
// The only file of the study that imports the inference library: when its entry point moves, change it here.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { forwardLogits } from '@mor/transformers';
import { generateText, loadModel } from '@mor/transformers/node';
import { scoreByTask } from '@mor/wordnet-llama';

const job = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const t0 = performance.now();

function rowsOf(file, limit) {
  const taken = {};
  const rows = [];
  for (const [i, line] of readFileSync(file, 'utf8').split('\n').entries()) {
    if (line.trim() === '') continue;
    const r = JSON.parse(line);
    if (typeof r.prompt !== 'string' || !Array.isArray(r.answers) || typeof r.task !== 'string')
      throw new Error(`${file}:${i + 1}: expected a benchmark row {"task", "prompt", "answers", …}`);
    taken[r.task] = (taken[r.task] ?? 0) + 1;
    if (limit === undefined || taken[r.task] <= limit) rows.push(r);
  }
  return rows;
}

const rows = rowsOf(job.data, job.limitPerTask);
const source = { model: job.model, ...(job.adapter ? { adapter: job.adapter } : {}) };

const loaded = await loadModel(source);
const predictions = [];
try {
  for (const r of rows) {
    const { text } = await generateText({
      model: loaded.model,
      tokenizer: loaded.tokenizer,
      prompt: r.prompt,
      maxNewTokens: job.maxNewTokens,
      greedy: true,
    });
    predictions.push({ task: r.task, headword: r.headword, answers: r.answers, prediction: text });
  }
} finally {
  await loaded.model.dispose();
}
const scores = scoreByTask(predictions);
const result = {
  predictions,
  accuracy: Object.fromEntries(Object.entries(scores).map(([t, s]) => [t, s.accuracy])),
};

if (job.gates) {
  // Router gates over each prompt's tokens: per task the mean gate (over tokens and layers) and the count of
  // (token, layer) pairs whose largest gate is each expert.
  const g = await loadModel({ ...source, exposeGates: true });
  const perTask = {};
  try {
    for (const r of rows) {
      const ids = Array.from(g.tokenizer(r.prompt).input_ids.data, Number);
      const { extra } = await forwardLogits(g.model, [ids]);
      for (const [name, t] of Object.entries(extra)) {
        if (!name.startsWith('mor_gates.')) continue;
        const n = t.shape.at(-1);
        const acc = (perTask[r.task] ??= { sum: new Array(n).fill(0), top: new Array(n).fill(0), count: 0 });
        for (let i = 0; i < t.data.length; i += n) {
          let best = 0;
          for (let j = 0; j < n; j++) {
            acc.sum[j] += t.data[i + j];
            if (t.data[i + j] > t.data[i + best]) best = j;
          }
          acc.top[best]++;
          acc.count++;
        }
      }
    }
  } finally {
    await g.model.dispose();
  }
  if (Object.keys(perTask).length === 0)
    throw new Error(`${job.adapter}: the model reported no router gates`);
  result.gates = Object.fromEntries(
    Object.entries(perTask).map(([task, a]) => [
      task,
      { mean: a.sum.map((s) => s / a.count), top_counts: a.top, pairs: a.count },
    ]),
  );
}
result.seconds = (performance.now() - t0) / 1000;
const tmp = `${job.out}.tmp-${process.pid}`;
writeFileSync(tmp, JSON.stringify(result));
renameSync(tmp, job.out);
