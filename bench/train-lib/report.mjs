// The text report of bench/train.mjs: one row per variant, then the ratios the targets are about.
const f = (x, d = 0) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : '—');

/** The interleaved run's ratio: median of per-pair ratios, its quartiles, and the CPU-time ratio. */
function pairRatio(r) {
  if (!r || r.error) return '— (interleaved run missing)';
  return (
    `${f(r.ratio, 2)}× interleaved (median of ${r.pairs} pairs, IQR ${f(r.ratioQ1, 2)}–${f(r.ratioQ3, 2)}; ` +
    `CPU time ${f(r.cpuRatio, 2)}×)`
  );
}

/** Whether `x` meets `target` (≤), as the report's words. */
const verdict = (x, target) => (Number.isFinite(x) ? (x <= target ? 'met' : 'MISSED') : '—');

/**
 * The dtype comparison (`--dtypes`): each form's MoR and LoRA run against fp32's in this invocation, and the
 * issue's CPU targets for q4 (peak memory ≤ 0.5× fp32's, step time ≤ 1.5× fp32's).
 */
function dtypeLines(o, results) {
  if (!o.dtypes || o.dtypes.length < 2) return [];
  const lines = [
    '',
    `Dtype forms of the same weights (${o.form ?? 'torchscript'} graph), each against fp32 in this invocation:`,
    '',
    '| dtype | method | step ms (wall) | tokens/s | CPU ms/step | peak RSS MB | setup s | ×fp32 wall | ×fp32 CPU | ×fp32 peak | first loss | skipped steps |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  const targets = [];
  for (const method of ['mor', 'lora']) {
    const base = results[method];
    for (const dtype of o.dtypes) {
      const r = dtype === 'fp32' ? base : results[`${method}:${dtype}`];
      if (!r) continue;
      const name = method === 'mor' ? 'MoR' : 'LoRA';
      if (r.error) {
        lines.push(`| ${dtype} | ${name} | failed: ${r.error.split('\n')[0]} | | | | | | | | | |`);
        continue;
      }
      const x = (key) => (base && !base.error ? r[key] / base[key] : NaN);
      lines.push(
        `| ${dtype} | ${name} | ${f(r.stepMs, 1)} | ${f(r.tokPerS)} | ${f(r.cpuMs, 1)} | ${f(r.peakMB)} | ` +
          `${f(r.createMs / 1000, 1)} | ${f(x('stepMs'), 2)} | ${f(x('cpuMs'), 2)} | ${f(x('peakMB'), 2)} | ` +
          `${f(r.losses?.[0], 4)} | ${r.skippedSteps ?? 0} |`,
      );
      if (dtype === 'q4')
        targets.push(
          `q4 / fp32, ${name}: peak memory ${f(x('peakMB'), 2)}× (target ≤ 0.5: ${verdict(x('peakMB'), 0.5)}), ` +
            `step time ${f(x('stepMs'), 2)}× wall / ${f(x('cpuMs'), 2)}× CPU (target ≤ 1.5: wall ${verdict(x('stepMs'), 1.5)}, CPU ${verdict(x('cpuMs'), 1.5)})`,
        );
    }
  }
  return [...lines, '', ...targets];
}

export function formatReport(o, results) {
  const lines = [
    `Llama h${o.hidden} L${o.layers} heads ${o.heads}/${o.kvHeads} inter ${o.intermediate} vocab ${o.vocab}; ` +
      `batch ${o.batch}×${o.seq} = ${o.batch * o.seq} tokens/step; MoR r ${o.r} N ${o.experts}${o.topK ? ` top-${o.topK}` : ' dense'}, LoRA r ${o.r}, ` +
      `all 7 projections; AdamW; ours on ${o.device} (${o.form ?? 'torchscript'} graph), ${o.threads} threads; median of ${o.steps} steps after ${o.warmup} warm-up`,
    '',
    '| variant | step ms (wall) | tokens/s | CPU ms/step | peak RSS MB | setup ms |',
    '|---|---|---|---|---|---|',
  ];
  for (const r of Object.values(results)) {
    if (r.error) lines.push(`| ${r.label} | failed: ${r.error.split('\n')[0]} | | | | |`);
    else if (r.method === 'mor+lora')
      lines.push(`| ${r.label} | MoR ${f(r.morMs, 1)} / LoRA ${f(r.loraMs, 1)} | | | | |`);
    else
      lines.push(
        `| ${r.label} | ${f(r.stepMs, 1)} | ${f(r.tokPerS)} | ${f(r.cpuMs, 1)} | ${f(r.peakMB)} | ${f(r.createMs)} |`,
      );
  }
  const ok = (k) => results[k] && !results[k].error;
  const ratio = (a, b, key, d = 2) => (ok(a) && ok(b) ? f(results[a][key] / results[b][key], d) : '—');
  lines.push(
    '',
    `ours / PyTorch throughput: MoR ${ratio('mor', 'torch-mor', 'tokPerS')}×, LoRA ${ratio('lora', 'torch-lora', 'tokPerS')}× (target ≥ 1)`,
    `ours / PyTorch peak memory: MoR ${ratio('mor', 'torch-mor', 'peakMB')}×, LoRA ${ratio('lora', 'torch-lora', 'peakMB')}×`,
    `ours / PyTorch CPU time per step: MoR ${ratio('mor', 'torch-mor', 'cpuMs')}×, LoRA ${ratio('lora', 'torch-lora', 'cpuMs')}× (steadier than wall time on a busy machine)`,
    `MoR / LoRA in our engine: step time ${pairRatio(results.pair)} (target ≤ 1.15), peak memory ${ratio('mor', 'lora', 'peakMB')}× (target ≤ 1.2)`,
    `  separate processes, one after the other: step time ${ratio('mor', 'lora', 'stepMs')}×, CPU time ${ratio('mor', 'lora', 'cpuMs')}×`,
    `MoR / LoRA in PyTorch: step time ${ratio('torch-mor', 'torch-lora', 'stepMs')}×, peak memory ${ratio('torch-mor', 'torch-lora', 'peakMB')}×`,
  );
  lines.push(...dtypeLines(o, results));
  const withPhases = Object.values(results).filter((r) => r.phases);
  if (withPhases.length) {
    // Every variant ran the same phases: one row each, RSS (and ms) per variant in columns.
    lines.push('', `| phase | ${withPhases.map((r) => `${r.label} RSS MB / ms`).join(' | ')} |`);
    lines.push(`|---|${withPhases.map(() => '---').join('|')}|`);
    for (const [i, { phase }] of withPhases[0].phases.entries())
      lines.push(
        `| ${phase} | ${withPhases
          .map((r) => r.phases[i])
          .map((p) => (p ? `${f(p.rssMB)} / ${p.ms === null ? '—' : f(p.ms)}` : '—'))
          .join(' | ')} |`,
      );
  }
  for (const r of Object.values(results))
    if (r.profile) {
      const p = r.profile;
      lines.push(
        '',
        `${r.label}: onnxruntime profile, ${f(p.runMs, 1)} ms/run, ${f(p.kernelsPerRun)} kernels/run`,
      );
      lines.push(`  by part: ${p.byPart.map(([k, v]) => `${k} ${f(v, 1)}`).join(', ')}`);
      lines.push(`  by op:   ${p.byOp.map(([k, v]) => `${k} ${f(v, 1)}`).join(', ')}`);
      lines.push('  top nodes:', ...p.byNode.slice(0, 15).map(([k, v]) => `    ${f(v, 2)} ms  ${k}`));
    }
  return lines.join('\n');
}
