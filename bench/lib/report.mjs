// Summaries and the printed table of bench/inference.mjs.
import { median } from './args.mjs';

const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))];

/** Targets: dynamic MoR ≤ 1.2× base decode time; a merged adapter within ±2 % of base. */
function verdict(target, ratio) {
  if (target === 'dynamic') return ratio <= 1.2 ? 'ok (≤ 1.20×)' : 'MISS (> 1.20×)';
  if (target === 'merged') return Math.abs(ratio - 1) <= 0.02 ? 'ok (±2 %)' : 'MISS (> ±2 %)';
  return '';
}

/** One row per variant, ratios against `variants[0]` (the base model). */
export function summarize(variants, { promptTokens, newTokens }) {
  const [base] = variants;
  const steps = newTokens - 1; // decode steps per generate(): the first new token comes from the prompt pass
  return variants.map((v) => {
    const prefill = median(v.prefill);
    const step = median(v.steps);
    const decodeRatio = step / median(base.steps);
    return {
      variant: v.name,
      prefillMs: prefill,
      prefillTokPerS: (promptTokens / prefill) * 1000,
      prefillRatio: prefill / median(base.prefill),
      decodeMsPerToken: step,
      decodeTokPerS: 1000 / step,
      decodeRatio,
      decodeIqr: (quantile(v.steps, 0.75) - quantile(v.steps, 0.25)) / step,
      decodeP10Ratio: quantile(v.steps, 0.1) / quantile(base.steps, 0.1),
      decodeCpuRatio: median(v.stepsCpu) / median(base.stepsCpu),
      e2eDecodeTokPerS: (steps / median(v.e2e)) * 1000,
      logitDiff: v.logitDiff,
      check: v.check ?? '',
      verdict: verdict(v.target, decodeRatio),
    };
  });
}

/** A Markdown table of {@link summarize}'s rows. */
export function formatTable(rows) {
  const f = (x, d = 1) => x.toFixed(d);
  const table = [
    [
      'variant',
      'prefill ms',
      'prefill tok/s',
      'prefill ×base',
      'decode ms/tok',
      'decode tok/s',
      'decode ×base',
      'IQR',
      'p10 ×base',
      'CPU ×base',
      'e2e decode tok/s',
      'max|Δlogit| vs base',
      'target',
    ],
    ...rows.map((r) => [
      r.variant,
      f(r.prefillMs),
      f(r.prefillTokPerS, 0),
      f(r.prefillRatio, 3),
      f(r.decodeMsPerToken, 2),
      f(r.decodeTokPerS, 1),
      f(r.decodeRatio, 3),
      `${f(r.decodeIqr * 100, 0)} %`,
      f(r.decodeP10Ratio, 3),
      f(r.decodeCpuRatio, 3),
      f(r.e2eDecodeTokPerS, 1),
      `${r.logitDiff.toExponential(1)}${r.check}`,
      r.verdict,
    ]),
  ];
  const widths = table[0].map((_, c) => Math.max(...table.map((row) => String(row[c]).length)));
  const line = (row) => `| ${row.map((cell, c) => String(cell).padEnd(widths[c])).join(' | ')} |`;
  return [line(table[0]), line(widths.map((w) => '-'.repeat(w))), ...table.slice(1).map(line)].join('\n');
}

export const LEGEND =
  'prefill: median onnxruntime time of the prompt pass (3 per repeat; it also yields the first new token). ' +
  'decode: median ' +
  'time of one KV-cache step, pooled over all steps of all repeats; IQR: its interquartile range / median; p10 ×base: ' +
  'ratio of the 10th percentiles (closer to the uncontended cost when other processes load the machine). ' +
  'CPU ×base: the same from process CPU time (robust on a busy machine with --threads 1; with more threads ' +
  "onnxruntime's spinning workers inflate it). e2e decode tok/s: whole generate() minus the prompt pass, " +
  'transformers.js overhead included. max|Δlogit|: vs base on a 16-token prompt; [= X: d] is the difference ' +
  'to variant X, which must be ~1e-5.';
