import {
  DataLocation,
  DataType,
  GraphError,
  OnnxIoError,
  decodeModel,
  encodeModel,
  encodeModelBytes,
  findLinearLayers,
  modelTensors,
  tensorToFloat32,
  tensorToInts,
  type ModelProto,
  type TensorProto,
} from '@mor/onnx';
import fc from 'fast-check';
import { BOUNDARY_INTEGERS, applyMutations, mutationPlan, type Seed } from '../mutate.js';
import { fixtureBytes } from '../seeds.js';
import { defineTarget } from '../target.js';

/** A model file and the one external-data file (`weights.bin`) it may reference. */
interface OnnxInput {
  model: Uint8Array;
  external: Uint8Array;
}

interface OnnxSeeds {
  /** Encoded seeds (byte mutations), each with its external file. */
  seeds: Seed[];
  externals: Uint8Array[];
  /** Decoded seeds (field mutations): edited, encoded, then restored. */
  models: ModelProto[];
}

const EXTERNAL_FILE = 'weights.bin';
const FLOAT_TYPES = new Set<number>([DataType.FLOAT, DataType.FLOAT16, DataType.BFLOAT16, DataType.DOUBLE]);
const INT_TYPES = new Set<number>([DataType.INT64, DataType.INT32]);

/**
 * The fixture decoder graph, small: its first `keep` nodes, and every initializer cut to at most 4 per dimension
 * (a 580 KB model costs 1.7 ms to decode; the structure is what the fuzzing needs, not the weights).
 */
async function shrunkFixture(keep: number): Promise<ModelProto> {
  const model = await decodeModel(fixtureBytes('fixtures/tiny-llama/onnx/model.onnx'));
  const graph = model.graph!;
  graph.node = graph.node.slice(0, keep);
  const used = new Set(graph.node.flatMap((n) => n.input));
  graph.initializer = graph.initializer.filter((t) => used.has(t.name));
  for (const t of graph.initializer) {
    const bytesPer =
      t.rawData.byteLength /
      Math.max(
        1,
        t.dims.reduce((a, d) => a * Number(d), 1),
      );
    t.dims = t.dims.map((d) => (d > 4n ? 4n : d));
    const n = t.dims.reduce((a, d) => a * Number(d), 1);
    t.rawData = t.rawData.slice(0, n * bytesPer);
  }
  return model;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** A field edit of one tensor: dims, data type, raw data length, or an external-data entry. */
const tensorEdit = fc.record({
  tensor: fc.nat(),
  field: fc.constantFrom('dims', 'dataType', 'rawData', 'external', 'location', 'typedData'),
  dim: fc.nat(3),
  value: fc.constantFrom(...BOUNDARY_INTEGERS),
  dataType: fc.integer({ min: 0, max: 25 }),
  location: fc.constantFrom('../weights.bin', '/etc/passwd', '', 'missing.bin', EXTERNAL_FILE),
  key: fc.constantFrom('offset', 'length', 'location', 'checksum'),
  text: fc.constantFrom('-1', '1e3', '0x10', 'abc', '', '9007199254740993', '1099511627776', '4'),
});

type TensorEdit = typeof tensorEdit extends fc.Arbitrary<infer T> ? T : never;

/** Applies `edits` to `model`, encodes it, and puts every field back as it was. */
function encodeEdited(model: ModelProto, edits: TensorEdit[]): Uint8Array {
  const tensors = [...modelTensors(model)];
  const saved = tensors.map((t) => ({
    t,
    dims: t.dims,
    dataType: t.dataType,
    rawData: t.rawData,
    dataLocation: t.dataLocation,
    floatData: t.floatData,
    int64Data: t.int64Data,
    values: t.externalData.map((x) => x.value),
  }));
  try {
    for (const e of edits) {
      const t: TensorProto = tensors[e.tensor % tensors.length]!;
      switch (e.field) {
        case 'dims': {
          const dims = [...t.dims];
          dims[e.dim % Math.max(1, dims.length)] = BigInt.asIntN(64, e.value);
          t.dims = dims;
          break;
        }
        case 'dataType':
          t.dataType = e.dataType;
          break;
        case 'rawData':
          t.rawData = t.rawData.slice(0, Number(e.value & 0xffn) % (t.rawData.length + 1));
          break;
        case 'typedData':
          t.rawData = new Uint8Array(0);
          t.floatData = [1, 2, 3].slice(0, e.dim);
          t.int64Data = [1n, 2n].slice(0, e.dim);
          break;
        case 'external':
        case 'location': {
          // Only tensors that are external already have entries to edit (the second seed's large ones).
          const key = e.field === 'location' ? 'location' : e.key;
          const entry = t.externalData.find((x) => x.key === key) ?? t.externalData[0];
          if (entry === undefined) break;
          entry.value = e.field === 'location' ? e.location : e.text;
          t.dataLocation = e.dim === 0 ? DataLocation.DEFAULT : DataLocation.EXTERNAL;
          break;
        }
      }
    }
    return encodeModelBytes(model);
  } finally {
    for (const { t, values, ...fields } of saved) {
      Object.assign(t, fields);
      t.externalData.forEach((x, i) => (x.value = values[i]!));
    }
  }
}

export const onnxTarget = defineTarget<OnnxInput, OnnxSeeds>({
  name: 'onnx',
  description: 'decodeModel (external data included) + tensor reads + findLinearLayers (@mor/onnx)',
  allowed: [OnnxIoError, GraphError],
  async setup() {
    const inline = await shrunkFixture(160);
    const withExternal = await shrunkFixture(160);
    const encoded = encodeModel(withExternal, { externalDataThreshold: 32, externalDataFile: EXTERNAL_FILE });
    const external = concat(encoded.externalData.flatMap((f) => f.chunks));
    const externalModel = await decodeModel(encoded.model); // still external: references kept for edits
    const inlineBytes = encodeModelBytes(inline);
    return {
      seeds: [
        { name: 'inline', bytes: inlineBytes, hotLength: inlineBytes.length },
        { name: 'external', bytes: encoded.model, hotLength: encoded.model.length },
      ],
      externals: [new Uint8Array(0), external],
      models: [inline, externalModel],
    };
  },
  inputs: (s) =>
    fc.oneof(
      {
        weight: 3,
        arbitrary: mutationPlan.map((plan) => ({
          model: applyMutations(plan, s.seeds),
          external: s.externals[plan.seed % s.seeds.length]!,
        })),
      },
      {
        weight: 2,
        arbitrary: fc
          .record({
            seed: fc.nat(1),
            edits: fc.array(tensorEdit, { minLength: 1, maxLength: 3 }),
            cut: fc.nat(),
          })
          .map(({ seed, edits, cut }) => {
            const external = s.externals[seed]!;
            return {
              model: encodeEdited(s.models[seed]!, edits),
              external: cut % 4 === 0 ? external.subarray(0, cut % (external.length + 1)) : external,
            };
          }),
      },
    ),
  async run(input) {
    const model = await decodeModel(input.model, {
      externalData: (location) => {
        if (location !== EXTERNAL_FILE)
          throw new OnnxIoError(`no external data file ${JSON.stringify(location)}`, location);
        return input.external;
      },
    });
    let n = 0;
    for (const t of modelTensors(model)) {
      if (FLOAT_TYPES.has(t.dataType)) n += tensorToFloat32(t).length;
      else if (INT_TYPES.has(t.dataType)) n += tensorToInts(t).length;
    }
    return n + findLinearLayers(model).length;
  },
  encode(input) {
    const out = new Uint8Array(4 + input.model.length + input.external.length);
    new DataView(out.buffer).setUint32(0, input.model.length, true);
    out.set(input.model, 4);
    out.set(input.external, 4 + input.model.length);
    return out;
  },
  decode(bytes) {
    const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
    return { model: bytes.subarray(4, 4 + n), external: bytes.subarray(4 + n) };
  },
  size: (input) => input.model.length + input.external.length,
});
