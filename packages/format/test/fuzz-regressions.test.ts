// Inputs the fuzz harness (tooling/fuzz) found, minimized: each once escaped as a RangeError, or as a message
// that did not say what was wrong.
import { describe, expect, it } from 'vitest';
import {
  AdapterFormatError,
  SafetensorsError,
  parseAdapter,
  parseSafetensors,
  parseTrainingSummary,
  serializeAdapter,
} from '../src/index.js';
import { MOR_DIR, fixtureConfig, fixtureWeights, rawSafetensors } from './helpers.js';

/** `[[[…]]]` nested deeper than JSON.stringify can follow (it throws RangeError past ~5,000 levels). */
const deep = (n = 10_000) => '['.repeat(n) + ']'.repeat(n);

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a refusal');
}

describe('safetensors inputs found by fuzzing', () => {
  it('refuses a deeply nested shape or data_offsets with a SafetensorsError, not a RangeError', () => {
    for (const field of ['shape', 'data_offsets', 'dtype']) {
      const entry = { dtype: '"F32"', shape: '[1]', data_offsets: '[0,4]', [field]: deep() };
      const header = `{"w":{"dtype":${entry.dtype},"shape":${entry.shape},"data_offsets":${entry.data_offsets}}}`;
      const error = thrown(() => parseSafetensors(rawSafetensors(header, 4), { fileName: 'x.safetensors' }));
      expect(error).toBeInstanceOf(SafetensorsError);
      expect((error as Error).message).toMatch(
        new RegExp(`^x.safetensors: tensor .w.: (unknown )?${field} \\[…\\] \\(nested too deeply to show\\)`),
      );
      expect((error as Error).message.length).toBeLessThan(300);
    }
  });

  it('says a missing shape or data_offsets is missing', () => {
    const error = thrown(() =>
      parseSafetensors(rawSafetensors('{"w":{"dtype":"F32","data_offsets":[0,4]}}', 4), { fileName: 'x' }),
    );
    expect((error as Error).message).toBe(
      "x: tensor 'w': shape (missing) is not a list of non-negative integers",
    );
  });

  it('refuses a 2^40 header length without allocating for it', () => {
    const before = process.memoryUsage().arrayBuffers;
    const error = thrown(() => parseSafetensors(rawSafetensors('{}', 0, 2n ** 40n)));
    expect(error).toBeInstanceOf(SafetensorsError);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1 << 20);
  });
});

describe('adapter_config.json inputs found by fuzzing', () => {
  const config = JSON.parse(fixtureConfig(MOR_DIR)) as Record<string, unknown>;
  const weights = fixtureWeights(MOR_DIR);

  it('refuses a config nested too deep to be written back, instead of failing when it is saved', () => {
    const text = JSON.stringify(config).replace(/}$/, `,"notes":${deep()}}`);
    const error = thrown(() => parseAdapter(text, weights, { dir: 'a' }));
    expect(error).toBeInstanceOf(AdapterFormatError);
    expect((error as Error).message).toBe(
      'a/adapter_config.json: nested more than 64 levels deep (not a config file)',
    );
  });

  it('still reads and writes back configs with unknown nested keys of a normal depth', () => {
    const text = JSON.stringify({ ...config, notes: { a: [{ b: [1, 2] }] } });
    const adapter = parseAdapter(text, weights);
    expect(JSON.parse(serializeAdapter(adapter).configJson).notes).toEqual({ a: [{ b: [1, 2] }] });
  });

  it('quotes a deeply nested bad value briefly', () => {
    const text = JSON.stringify({ ...config, peft_type: 'LORA', r: 1 }).replace(
      '"r":1',
      `"r":${'['.repeat(40)}1${']'.repeat(40)}`,
    );
    const error = thrown(() => parseAdapter(text, weights));
    expect(error).toBeInstanceOf(AdapterFormatError);
    expect((error as Error).message).toMatch(/^adapter_config.json: r: expected an integer ≥ 1, got \[\[\[/);
  });

  it('refuses a deeply nested training_summary.json with an AdapterFormatError', () => {
    expect(thrown(() => parseTrainingSummary(`{"training":${deep()}}`))).toBeInstanceOf(AdapterFormatError);
  });
});

describe('__proto__ keys (JSON.parse keeps them as own keys)', () => {
  const config = fixtureConfig(MOR_DIR);
  const weights = fixtureWeights(MOR_DIR);

  it('keeps a static gate and an unknown key named __proto__ through a round trip, without changing prototypes', () => {
    const text = config.replace(
      /}\s*$/,
      ',"__proto__":{"a":1},"static_gates":{"__proto__":[0,1,0,0],"math":[1,0,0,0]}}',
    );
    const adapter = parseAdapter(text, weights);
    if (adapter.kind !== 'mor') throw new Error('expected a MoR adapter');
    expect(Object.keys(adapter.staticGates)).toEqual(['__proto__', 'math']);
    expect(Object.getPrototypeOf(adapter.staticGates)).toBe(Object.prototype);
    const written = serializeAdapter(adapter).configJson;
    expect(Object.keys(JSON.parse(written) as object)).toContain('__proto__');
    const back = parseAdapter(written, serializeAdapter(adapter).safetensors);
    expect(back.kind === 'mor' && Object.keys(back.staticGates)).toEqual(['__proto__', 'math']);
  });

  it('keeps a __metadata__ entry named __proto__', () => {
    const file = parseSafetensors(rawSafetensors('{"__metadata__":{"__proto__":"x","format":"pt"}}'));
    expect(Object.keys(file.metadata)).toEqual(['__proto__', 'format']);
    expect(Object.getPrototypeOf(file.metadata)).toBe(Object.prototype);
  });
});
