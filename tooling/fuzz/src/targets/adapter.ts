import {
  AdapterFormatError,
  SafetensorsError,
  parseAdapter,
  parseTrainingSummary,
  serializeAdapter,
} from '@mor/format';
import fc from 'fast-check';
import { anyJson, editedJson } from '../json-gen.js';
import { applyMutations, mutationPlan, type Seed } from '../mutate.js';
import { generatedSafetensors } from '../safetensors-gen.js';
import { ADAPTER_DIRS, fixtureBytes, fromUtf8, safetensorsSeed, textSeed, utf8 } from '../seeds.js';
import { defineTarget } from '../target.js';

interface AdapterSeeds {
  configs: Seed[];
  configObjects: unknown[];
  weights: Seed[];
  summaries: Seed[];
  summaryObjects: unknown[];
}

/** Extra config seeds for the branches the fixtures do not reach: static gates, top_k, a regex target. */
function extraConfigs(mor: Record<string, unknown>, lora: Record<string, unknown>): unknown[] {
  return [
    { ...mor, top_k: 2, router_bias: true, router_aux_loss_coef: 0.01, static_gates: { math: [1, 0, 0, 0] } },
    JSON.parse(`{"static_gates":{"__proto__":[0,1,0,0]},"__proto__":{"a":1},${JSON.stringify(mor).slice(1)}`),
    { ...lora, target_modules: '.*\\.(q_proj|v_proj)', use_rslora: true },
  ];
}

const SUMMARY = {
  data: { file: 'train.jsonl', rows: 1200, tokens: 153600, eval_file: 'eval.jsonl', eval_rows: 100 },
  training: { method: 'mor', optimizer: 'adamw', lr: 0.0002, steps: 300, epochs: 2, batch_size: 8 },
  metrics: { eval_loss_before: 3.91, eval_loss_after: 2.47, train_loss_final: 2.31 },
};

async function loadSeeds(): Promise<AdapterSeeds> {
  const configs = ADAPTER_DIRS.map((d) => textSeed(`${d}/adapter_config.json`));
  const parsed = configs.map((s) => JSON.parse(fromUtf8(s.bytes)) as Record<string, unknown>);
  const configObjects: unknown[] = [...parsed, ...extraConfigs(parsed[0]!, parsed[2]!)];
  const weights = ADAPTER_DIRS.map((d) =>
    safetensorsSeed(`${d}/adapter_model.safetensors`, fixtureBytes(`${d}/adapter_model.safetensors`)),
  );
  const summaryBytes = utf8.encode(JSON.stringify(SUMMARY, null, 2));
  return {
    configs,
    configObjects,
    weights,
    summaries: [{ name: 'training_summary.json', bytes: summaryBytes, hotLength: summaryBytes.length }],
    summaryObjects: [SUMMARY],
  };
}

/** An adapter_config.json / training_summary.json text, and which fixture's weights go with a config. */
interface ConfigInput {
  file: 'adapter_config.json' | 'training_summary.json';
  text: string;
  weights: number;
}

const configText = (s: AdapterSeeds) =>
  fc.oneof(
    { weight: 3, arbitrary: mutationPlan.map((p) => fromUtf8(applyMutations(p, s.configs))) },
    { weight: 4, arbitrary: editedJson(s.configObjects) },
    { weight: 1, arbitrary: anyJson },
  );

/** What we accept, written back, loses something: not one of our errors, a failure of the round trip. */
class RoundTripError extends Error {
  override name = 'RoundTripError';
}

/**
 * Parses, and for a success writes the adapter and reads it back: what we accept we must also write, keeping
 * every key of adapter_config.json and every static gate (`__proto__` included).
 */
function parseAndRoundTrip(config: string, weights: Uint8Array): unknown {
  const adapter = parseAdapter(config, weights, { dir: 'fuzz-adapter' });
  const again = serializeAdapter(adapter);
  const written = JSON.parse(again.configJson) as Record<string, unknown>;
  const lost = Object.keys(adapter.rawConfig).filter((k) => !Object.hasOwn(written, k));
  if (lost.length > 0)
    throw new RoundTripError(`adapter_config.json written back lost ${JSON.stringify(lost)}`);
  const back = parseAdapter(again.configJson, again.safetensors, { dir: 'fuzz-adapter (written back)' });
  if (adapter.kind === 'mor' && back.kind === 'mor') {
    const gates = (a: typeof adapter) => JSON.stringify(Object.keys(a.staticGates));
    if (gates(adapter) !== gates(back))
      throw new RoundTripError(`static gates ${gates(adapter)} came back as ${gates(back)}`);
  }
  return back;
}

export const adapterConfigTarget = defineTarget<ConfigInput, AdapterSeeds>({
  name: 'adapter-config',
  description: 'adapter_config.json (parseAdapter with fixture weights) and training_summary.json',
  allowed: [AdapterFormatError, SafetensorsError],
  setup: loadSeeds,
  inputs: (s) =>
    fc.oneof(
      {
        weight: 4,
        arbitrary: fc.record({
          file: fc.constant('adapter_config.json' as const),
          text: configText(s),
          weights: fc.nat(s.weights.length - 1),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          file: fc.constant('training_summary.json' as const),
          text: fc.oneof(
            mutationPlan.map((p) => fromUtf8(applyMutations(p, s.summaries))),
            editedJson(s.summaryObjects),
            anyJson,
          ),
          weights: fc.constant(0),
        }),
      },
    ),
  run(input, s) {
    if (input.file === 'training_summary.json') return parseTrainingSummary(input.text);
    return parseAndRoundTrip(input.text, s.weights[input.weights]!.bytes);
  },
  encode: (input) => utf8.encode(JSON.stringify(input)),
  decode: (bytes) => JSON.parse(fromUtf8(bytes)) as ConfigInput,
  size: (input) => input.text.length * 3,
});

/** A whole adapter directory's two files. */
interface AdapterInput {
  config: string;
  weights: Uint8Array;
}

export const adapterTarget = defineTarget<AdapterInput, AdapterSeeds>({
  name: 'adapter',
  description:
    'whole adapters: parseAdapter on mutated config + mutated/generated safetensors, then a round trip',
  allowed: [AdapterFormatError, SafetensorsError],
  setup: loadSeeds,
  inputs: (s) =>
    fc.record({
      config: fc.oneof(
        { weight: 3, arbitrary: fc.nat(s.configs.length - 1).map((i) => fromUtf8(s.configs[i]!.bytes)) },
        { weight: 1, arbitrary: configText(s) },
      ),
      weights: fc.oneof(
        { weight: 4, arbitrary: mutationPlan.map((p) => applyMutations(p, s.weights)) },
        { weight: 1, arbitrary: fc.nat(s.weights.length - 1).map((i) => s.weights[i]!.bytes) },
        { weight: 1, arbitrary: generatedSafetensors },
      ),
    }),
  run: (input) => parseAndRoundTrip(input.config, input.weights),
  encode(input) {
    const config = utf8.encode(input.config);
    const out = new Uint8Array(4 + config.length + input.weights.length);
    new DataView(out.buffer).setUint32(0, config.length, true);
    out.set(config, 4);
    out.set(input.weights, 4 + config.length);
    return out;
  },
  decode(bytes) {
    const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
    return { config: fromUtf8(bytes.subarray(4, 4 + n)), weights: bytes.subarray(4 + n) };
  },
  size: (input) => input.config.length * 3 + input.weights.length,
});
