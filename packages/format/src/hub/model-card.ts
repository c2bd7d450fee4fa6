import { morScaling } from '@mor/core';
import { adapterParameterCount } from '../adapter/param-count.js';
import { ADAPTER_KIND_LABELS, PEFT_TYPES, type Adapter } from '../adapter/types.js';
import type { TrainingSummary } from './training-summary.js';

/** Options of {@link renderModelCard}. */
export interface ModelCardOptions {
  /** `OWNER/NAME` of the repository the card is for (its title and the usage snippet). */
  repo: string;
  /** The trainer's `training_summary.json`, for the training data and metrics sections. */
  summary?: TrainingSummary | undefined;
  /** Base model Hub id, when the adapter config does not record it (or records a local path). */
  baseModel?: string | undefined;
}

/** File name of the model card in a repository. */
export const MODEL_CARD_FILE = 'README.md';

/** Tags on every card: the Hub lists the adapter under each. */
export const MODEL_CARD_TAGS = ['mor', 'peft', 'lora', 'transformers.js'] as const;

/** PEFT task types → the Hub's pipeline tags (and the transformers.js pipeline of the usage snippet). */
const PIPELINE_TAGS: Record<string, string> = {
  CAUSAL_LM: 'text-generation',
  SEQ_CLS: 'text-classification',
  TOKEN_CLS: 'token-classification',
  SEQ_2_SEQ_LM: 'text2text-generation',
  QUESTION_ANS: 'question-answering',
  FEATURE_EXTRACTION: 'feature-extraction',
};

/**
 * The README.md of an adapter repository: YAML front matter the Hub indexes (`library_name`, `base_model`,
 * `tags`, `pipeline_tag`), then what the adapter is (base model, targets, rank, experts, routing, parameter
 * count), how it was trained when a {@link TrainingSummary} is given, and how to use it with transformers.js.
 */
export function renderModelCard(adapter: Adapter, options: ModelCardOptions): string {
  const baseModel = options.baseModel ?? adapter.baseModel;
  const pipelineTag = adapter.taskType === null ? undefined : PIPELINE_TAGS[adapter.taskType];
  const parts = [
    frontMatter(hubModelId(baseModel), pipelineTag),
    `# ${options.repo}\n`,
    intro(adapter, baseModel),
    adapterTable(adapter, baseModel),
    ...(options.summary === undefined ? [] : trainingSections(options.summary)),
    usage(options.repo, baseModel, pipelineTag ?? 'text-generation'),
  ];
  return `${parts.join('\n').trimEnd()}\n`;
}

/** The base model as a Hub id, or undefined for a local path (the Hub would reject it in `base_model`). */
function hubModelId(baseModel: string | null | undefined): string | undefined {
  if (baseModel === null || baseModel === undefined) return undefined;
  return /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/.test(baseModel)
    ? baseModel
    : undefined;
}

function frontMatter(baseModel: string | undefined, pipelineTag: string | undefined): string {
  // JSON strings are valid YAML double-quoted scalars, which sidesteps YAML's quoting rules for names.
  const lines = ['---', 'library_name: transformers.js'];
  if (baseModel !== undefined)
    lines.push(`base_model: ${JSON.stringify(baseModel)}`, 'base_model_relation: adapter');
  lines.push('tags:', ...MODEL_CARD_TAGS.map((t) => `  - ${JSON.stringify(t)}`));
  if (pipelineTag !== undefined) lines.push(`pipeline_tag: ${pipelineTag}`);
  lines.push('---', '');
  return lines.join('\n');
}

function intro(adapter: Adapter, baseModel: string | null | undefined): string {
  const kind =
    adapter.kind === 'mor'
      ? 'A MoR (Mixture of Ranks) adapter'
      : adapter.kind === 'moelora'
        ? 'A MoELoRA (mixture of LoRA experts) adapter'
        : 'A LoRA adapter';
  const base = baseModel ? ` for \`${baseModel}\`` : '';
  return (
    `${kind}${base}, stored in the PEFT layout (\`adapter_config.json\`, \`adapter_model.safetensors\`) and ` +
    'applied to transformers.js models by [@mor/transformers](https://www.npmjs.com/package/@mor/transformers).\n'
  );
}

function adapterTable(adapter: Adapter, baseModel: string | null | undefined): string {
  const rows: Array<[string, string]> = [
    ['type', `${ADAPTER_KIND_LABELS[adapter.kind]} (\`peft_type: "${PEFT_TYPES[adapter.kind]}"\`)`],
    ['base model', baseModel ? code(baseModel) : '(not recorded)'],
    ['task', adapter.taskType ? code(adapter.taskType) : '(not recorded)'],
  ];
  if (adapter.kind !== 'lora') {
    const { config } = adapter;
    rows.push(
      ['target modules', config.targets.map(code).join(', ')],
      ['adapted layers', String(adapter.layers.size)],
      [adapter.kind === 'mor' ? 'rank r' : 'rank r (each expert)', String(config.r)],
      ['lora_alpha', `${config.alpha} (scaling ${round(morScaling(config))})`],
      ['experts', String(config.experts)],
      ['routing', routing(config.topK, config.experts, config.routerBias)],
    );
    const gates = adapter.kind === 'mor' ? Object.keys(adapter.staticGates) : [];
    if (gates.length > 0) rows.push(['static gates', gates.map(code).join(', ')]);
  } else {
    rows.push(
      [
        'target modules',
        adapter.targetPattern === null ? adapter.targets.map(code).join(', ') : code(adapter.targetPattern),
      ],
      ['adapted layers', String(adapter.layers.size)],
      ['rank r', String(adapter.r)],
      [
        'lora_alpha',
        `${adapter.alpha} (scaling ${round(adapter.scaling)}${adapter.useRslora ? ', rsLoRA' : ''})`,
      ],
    );
  }
  rows.push(
    ['trainable parameters', adapterParameterCount(adapter).toLocaleString('en-US')],
    ['dtype', adapter.dtype],
  );
  return ['## Adapter\n', table(['', ''], rows), ''].join('\n');
}

function routing(topK: number | null, experts: number, bias: boolean): string {
  const how = topK === null ? `dense softmax over ${experts} experts` : `top-${topK} of ${experts} experts`;
  return bias ? `${how}, router bias` : how;
}

function trainingSections(summary: TrainingSummary): string[] {
  const sections: string[] = [];
  const rows: Array<[string, string]> = [];
  const { data } = summary;
  if (data?.file !== undefined) rows.push(['training data', code(data.file)]);
  if (data?.rows !== undefined) rows.push(['rows', data.rows.toLocaleString('en-US')]);
  if (data?.tokens !== undefined) rows.push(['tokens', data.tokens.toLocaleString('en-US')]);
  if (data?.eval_file !== undefined) rows.push(['eval data', code(data.eval_file)]);
  if (data?.eval_rows !== undefined) rows.push(['eval rows', data.eval_rows.toLocaleString('en-US')]);
  for (const [key, value] of Object.entries(summary.training ?? {})) {
    rows.push([key, typeof value === 'number' ? String(round(value)) : String(value)]);
  }
  if (rows.length > 0) sections.push(['## Training\n', table(['', ''], rows), ''].join('\n'));

  const metrics = summary.metrics ?? {};
  const names = Object.keys(metrics);
  if (names.length > 0) {
    const metricRows = names.map((name): [string, string] => [name, String(round(metrics[name]!))]);
    const { eval_loss_before: before, eval_loss_after: after } = metrics;
    const lines = ['## Results\n', table(['metric', 'value'], metricRows), ''];
    if (before !== undefined && after !== undefined) {
      const change = before === 0 ? '' : ` (${(((after - before) / before) * 100).toFixed(1)}%)`;
      lines.push(`Eval loss went from ${round(before)} before training to ${round(after)} after${change}.\n`);
    }
    sections.push(lines.join('\n'));
  }
  return sections;
}

function usage(repo: string, baseModel: string | null | undefined, pipelineTag: string): string {
  const model = baseModel ?? 'BASE_MODEL_ID';
  return [
    '## Usage\n',
    'Download the adapter with the `mor` command line, then load the base model through transformers.js with the',
    'adapter attached:\n',
    '```sh',
    `npx @mor/cli pull --repo ${repo} --out ./adapter`,
    '```\n',
    '```js',
    "import { pipelineWithAdapter } from '@mor/transformers';\n",
    `const pipe = await pipelineWithAdapter(${JSON.stringify(pipelineTag)}, ${JSON.stringify(model)}, { adapter: './adapter' });`,
    pipelineTag === 'text-generation'
      ? "const [{ generated_text }] = await pipe('Once upon a time', { max_new_tokens: 32 });"
      : "const output = await pipe('Your input here');",
    '```\n',
  ].join('\n');
}

function table(header: [string, string], rows: Array<[string, string]>): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return [
    `| ${header.join(' | ')} |`,
    '|---|---|',
    ...rows.map(([k, v]) => `| ${cell(k)} | ${cell(v)} |`),
  ].join('\n');
}

function code(s: string): string {
  return `\`${s.replace(/`/g, "'")}\``;
}

/** Six significant digits: enough for losses and learning rates, short enough for a table. */
function round(x: number): number {
  return Number(x.toPrecision(6));
}
