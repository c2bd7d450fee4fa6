// Generated safetensors files: headers with boundary lengths (2^40, 2^64 − 1, one past the file), offsets past
// the end, overlapping or gapped ranges, dtype/shape disagreements, duplicate names, hostile metadata. Hand-written
// assembly (fast-check draws the parts): no library writes deliberately broken safetensors.
import fc from 'fast-check';
import { BOUNDARY_INTEGERS } from './mutate.js';
import { hostileValue, writeJson, type JsonNode } from './json-gen.js';

const DTYPES = ['F32', 'F16', 'BF16', 'F64', 'I64', 'I32', 'I8', 'U8', 'BOOL', 'F8_E4M3'];
const SIZES: Record<string, number> = {
  F32: 4,
  F16: 2,
  BF16: 2,
  F64: 8,
  I64: 8,
  I32: 4,
  I8: 1,
  U8: 1,
  BOOL: 1,
};
const NAMES = [
  'base_model.model.model.layers.0.mlp.gate_proj.mor_A.weight',
  'base_model.model.model.layers.0.mlp.gate_proj.mor_B.weight',
  'base_model.model.model.layers.0.mlp.gate_proj.lora_A.weight',
  'w',
  '__metadata__',
  '__proto__',
  '',
];

const dim = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 6 }) },
  { weight: 1, arbitrary: fc.constantFrom(...BOUNDARY_INTEGERS).map((b) => Number(b)) },
);

const tensor = fc.record({
  name: fc.oneof(fc.constantFrom(...NAMES), fc.string({ maxLength: 8 })),
  dtype: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...DTYPES) },
    { weight: 1, arbitrary: fc.string() },
  ),
  shape: fc.array(dim, { maxLength: 4 }),
  /** How data_offsets relate to the running offset: exact, overlapping, gapped, past the end, boundary. */
  offsets: fc.constantFrom('exact', 'exact', 'exact', 'overlap', 'gap', 'past-end', 'reversed', 'boundary'),
  boundary: fc.constantFrom(...BOUNDARY_INTEGERS).map(String),
  /** Replace a field by a hostile JSON value. */
  hostile: fc.option(
    fc.record({ field: fc.constantFrom('dtype', 'shape', 'data_offsets', 'entry'), value: hostileValue }),
    {
      freq: 4,
    },
  ),
});

export const generatedSafetensors: fc.Arbitrary<Uint8Array> = fc
  .record({
    tensors: fc.array(tensor, { maxLength: 5 }),
    metadata: fc.option(
      fc.oneof(
        hostileValue,
        fc
          .dictionary(fc.string({ maxLength: 6 }), fc.string())
          .map((d) => ({ entries: Object.entries(d) }) as JsonNode),
      ),
      { freq: 3 },
    ),
    lengthField: fc.constantFrom('exact', 'exact', 'exact', 'plus-one', 'minus-one', 'boundary'),
    boundary: fc.constantFrom(...BOUNDARY_INTEGERS),
    dataSlack: fc.constantFrom(0, 0, 0, -1, 1, 8),
    padding: fc.constantFrom('', ' ', '  \n', '\u0000'),
  })
  .map(({ tensors, metadata, lengthField, boundary, dataSlack, padding }) => {
    const entries: Array<[string, JsonNode]> = [];
    if (metadata !== null) entries.push(['__metadata__', metadata]);
    let offset = 0;
    for (const t of tensors) {
      const count = t.shape.reduce((a, b) => a * b, 1);
      const bytes = Number.isSafeInteger(count * (SIZES[t.dtype] ?? 1)) ? count * (SIZES[t.dtype] ?? 1) : 0;
      let begin = offset;
      let end = offset + Math.min(bytes, 4096);
      let offsetsNode: JsonNode = { array: [begin, end] };
      if (t.offsets === 'overlap') begin = Math.max(0, begin - 1);
      if (t.offsets === 'gap') end += 1;
      if (t.offsets === 'past-end') end += 1_000_000;
      if (t.offsets === 'reversed') [begin, end] = [end + 1, begin];
      offsetsNode =
        t.offsets === 'boundary' ? { array: [begin, { raw: t.boundary }] } : { array: [begin, end] };
      offset = Math.max(offset, end);
      const fields: Array<[string, JsonNode]> = [
        ['dtype', t.dtype],
        ['shape', { array: t.shape.map((d) => ({ raw: String(d) })) }],
        ['data_offsets', offsetsNode],
      ];
      let entry: JsonNode = { entries: fields };
      if (t.hostile !== null) {
        if (t.hostile.field === 'entry') entry = t.hostile.value;
        else entry = { entries: fields.map(([k, v]) => [k, k === t.hostile!.field ? t.hostile!.value : v]) };
      }
      entries.push([t.name, entry]);
    }
    const header = new TextEncoder().encode(writeJson({ entries }) + padding);
    const dataLength = Math.max(0, Math.min(offset, 1 << 20) + dataSlack);
    const out = new Uint8Array(8 + header.length + dataLength);
    const view = new DataView(out.buffer);
    let length = BigInt(header.length);
    if (lengthField === 'plus-one') length += 1n;
    if (lengthField === 'minus-one') length -= 1n;
    if (lengthField === 'boundary') length = boundary;
    view.setBigUint64(0, BigInt.asUintN(64, length), true);
    out.set(header, 8);
    for (let i = 8 + header.length; i < out.length; i++) out[i] = (i * 31) & 0xff;
    return out;
  });
