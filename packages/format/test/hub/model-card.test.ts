import { describe, expect, it } from 'vitest';
import { AdapterFormatError, parseAdapter } from '../../src/index.js';
import { parseTrainingSummary, redactToken, renderModelCard } from '../../src/hub/index.js';
import { editedConfig, fixtureConfig, fixtureWeights, LORA_DIR, MOR_DIR } from '../helpers.js';

const frontMatter = (card: string) => card.split('---\n')[1]!;

describe('renderModelCard', () => {
  it('describes top-k routing, a router-less LoRA and the base model', () => {
    const topK = parseAdapter(editedConfig(MOR_DIR, { top_k: 2 }), fixtureWeights(MOR_DIR));
    expect(renderModelCard(topK, { repo: 'me/a' })).toContain('| routing | top-2 of 4 experts |');

    const lora = parseAdapter(fixtureConfig(LORA_DIR), fixtureWeights(LORA_DIR));
    const card = renderModelCard(lora, { repo: 'me/lora' });
    expect(card).toContain('A LoRA adapter');
    expect(card).toContain('| trainable parameters | 1,792 |');
    expect(card).not.toContain('| experts |');
  });

  it('keeps a local base-model path out of the front matter, and takes an override', () => {
    const local = parseAdapter(
      editedConfig(MOR_DIR, { base_model_name_or_path: '/home/me/models/llama' }),
      fixtureWeights(MOR_DIR),
    );
    const card = renderModelCard(local, { repo: 'me/a' });
    expect(frontMatter(card)).not.toContain('base_model');
    expect(card).toContain('| base model | `/home/me/models/llama` |');
    const named = renderModelCard(local, { repo: 'me/a', baseModel: 'HuggingFaceTB/SmolLM2-135M' });
    expect(frontMatter(named)).toContain(
      'base_model: "HuggingFaceTB/SmolLM2-135M"\nbase_model_relation: adapter',
    );
  });

  it('maps the task type to the pipeline tag and the usage snippet', () => {
    const cls = parseAdapter(editedConfig(MOR_DIR, { task_type: 'SEQ_CLS' }), fixtureWeights(MOR_DIR));
    const card = renderModelCard(cls, { repo: 'me/cls' });
    expect(frontMatter(card)).toContain('pipeline_tag: text-classification');
    expect(card).toContain('pipelineWithAdapter("text-classification"');
    const unknown = parseAdapter(editedConfig(MOR_DIR, { task_type: null }), fixtureWeights(MOR_DIR));
    expect(frontMatter(renderModelCard(unknown, { repo: 'me/x' }))).not.toContain('pipeline_tag');
  });
});

describe('parseTrainingSummary', () => {
  it('reads the documented schema and keeps training settings', () => {
    const text = JSON.stringify({
      data: { file: 'a.jsonl', rows: 2, tokens: 30, eval_file: 'b.jsonl', eval_rows: 1 },
      training: { method: 'mor', lr: 0.001, shuffle: true },
      metrics: { eval_loss_before: 2, eval_loss_after: 1, eval_accuracy: 0.5 },
    });
    expect(parseTrainingSummary(text)).toEqual(JSON.parse(text));
  });

  it('refuses wrong types naming the file and key', () => {
    const bad = (value: unknown) => () =>
      parseTrainingSummary(JSON.stringify(value), 'dir/training_summary.json');
    expect(bad([])).toThrow(
      new AdapterFormatError('not a JSON object', { fileName: 'dir/training_summary.json' }),
    );
    expect(bad({ data: { tokens: 1.5 } })).toThrow(
      'dir/training_summary.json: data.tokens: expected a non-negative integer, got 1.5',
    );
    expect(bad({ data: { file: 3 } })).toThrow('data.file: expected a file name, got 3');
    expect(bad({ metrics: { eval_loss_after: 'low' } })).toThrow(
      'metrics.eval_loss_after: expected a finite number, got "low"',
    );
    expect(bad({ training: { lr: [1] } })).toThrow(
      'training.lr: expected a string, finite number or boolean, got [1]',
    );
    expect(() => parseTrainingSummary('{', 'x.json')).toThrow(/^x\.json: not valid JSON/);
  });
});

describe('redactToken', () => {
  it('removes every occurrence and leaves text without the token alone', () => {
    expect(redactToken('a hf_abc123 b hf_abc123', 'hf_abc123')).toBe('a *** b ***');
    expect(redactToken('nothing here', 'hf_abc123')).toBe('nothing here');
    expect(redactToken('text', undefined)).toBe('text');
  });
});
