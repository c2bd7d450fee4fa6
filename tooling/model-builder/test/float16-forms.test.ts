import { decodeModel, encodeModelBytes, halfToFloat, type ModelProto } from '@mor/onnx';
import { AutoModelForCausalLM, AutoTokenizer } from '@huggingface/transformers';
import { TensorProto_DataType as DataType } from 'onnx-buf';
import ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  buildLlama,
  convertFloatType,
  toDtype,
  writeDtypeFile,
  writeModelDir,
  type BuiltModel,
  q4Twin,
} from '../src/index.js';
import { decode, installModel, tempModelRoot } from './helpers.js';

// The fp16 and q4f16 forms against their float32 twins: the same graph with the float16-rounded weights (and, for
// q4f16, the MatMulNBits weights dequantized from the op definition). onnxruntime-node's CPU EP runs these graphs
// (docs/architecture.md, "Float16 forms", says which of its kernels compute in float16), so all of this runs here.

const fp32 = buildLlama({ seed: 7, layers: 2 });
const form = (dtype: 'fp16' | 'q4f16'): ModelProto => {
  const m = decode(fp32);
  toDtype(m, dtype);
  return m;
};
/** The float32 twin of a float16 form: float types back (exact), MatMulNBits dequantized. */
async function twinOf(m: ModelProto): Promise<Uint8Array> {
  const copy = await decodeModel(encodeModelBytes(m));
  convertFloatType(copy, 'float32');
  return q4Twin(encodeModelBytes(copy));
}

const asFloat32 = (t: ort.Tensor): Float32Array =>
  t.type === 'float16' ? Float32Array.from(t.data as Uint16Array, halfToFloat) : (t.data as Float32Array);

/** Logits of one forward (empty past, in the type the graph declares), as float32 values. */
async function logits(onnx: Uint8Array, built: BuiltModel, ids: number[]): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(onnx);
  const i64 = (v: number[]) => new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), [1, v.length]);
  const feeds: Record<string, ort.Tensor> = { input_ids: i64(ids), attention_mask: i64(ids.map(() => 1)) };
  if (s.inputNames.includes('position_ids')) feeds.position_ids = i64(ids.map((_, i) => i));
  const { kvHeads, headDim } = built.cache!;
  for (const meta of s.inputMetadata) {
    if (!meta.name.startsWith('past_key_values.')) continue;
    const half = meta.isTensor && meta.type === 'float16';
    feeds[meta.name] = half
      ? new ort.Tensor('float16', new Uint16Array(0), [1, kvHeads, 0, headDim])
      : new ort.Tensor('float32', new Float32Array(0), [1, kvHeads, 0, headDim]);
  }
  const out = (await s.run(feeds)).logits!;
  await s.release();
  return asFloat32(out);
}

/** max |a − b| / max |b|: the acceptance measure for float16 forms (1e-2). */
function relDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return d / m;
}

const ids = [1, 60, 61, 62, 63, 70, 71];

describe('float16 forms (fp16, q4f16)', () => {
  const tmp = tempModelRoot();
  afterAll(() => tmp.dispose());

  it('fp16: every float tensor is float16 (weights, constants, casts, past_key_values, logits)', () => {
    const m = form('fp16');
    const g = m.graph!;
    expect(g.initializer.filter((t) => t.dataType === DataType.FLOAT)).toEqual([]);
    const declared = [...g.input, ...g.output].map((v) =>
      v.type?.value.case === 'tensorType' ? v.type.value.value.elemType : 0,
    );
    expect(declared).not.toContain(DataType.FLOAT);
    expect(g.input.find((v) => v.name === 'past_key_values.0.key')?.type?.value.value).toMatchObject({
      elemType: DataType.FLOAT16,
    });
    const casts = g.node.filter((n) => n.opType === 'Cast').map((n) => Number(n.attribute[0]!.i));
    expect(casts).not.toContain(DataType.FLOAT);
  });

  it('q4f16: MatMulNBits with float16 scales, activations float16', () => {
    const g = form('q4f16').graph!;
    const nbits = g.node.filter((n) => n.opType === 'MatMulNBits');
    expect(nbits.length).toBe(fp32.linears.length); // lm_head included, as the q4 rewrite does
    const inits = new Map(g.initializer.map((t) => [t.name, t]));
    for (const n of nbits) expect(inits.get(n.input[2]!)!.dataType).toBe(DataType.FLOAT16);
  });

  for (const dtype of ['fp16', 'q4f16'] as const)
    it(`${dtype}: logits within 1e-2 relative of the float32 twin, and the same greedy tokens (transformers.js)`, async () => {
      const m = form(dtype);
      const twin = await twinOf(m);
      const a = await logits(encodeModelBytes(m), fp32, ids);
      const b = await logits(twin, fp32, ids);
      const rel = relDiff(a, b);
      expect(rel).toBeLessThan(1e-2);
      expect(rel).toBeGreaterThan(0); // really computed in float16
      // transformers.js loads the float16 file by dtype and feeds float16 past_key_values as the session declares.
      const name = `llama-${dtype}`;
      await installModel(tmp.root, name, { ...fp32, onnx: twin });
      const { writeFile } = await import('node:fs/promises');
      const suffix = dtype === 'fp16' ? '_fp16' : '_q4f16';
      await writeFile(`${tmp.root}/${name}/onnx/model${suffix}.onnx`, encodeModelBytes(m));
      const tokenizer = await AutoTokenizer.from_pretrained(name);
      const enc = tokenizer('the cat sat on');
      const gen = async (d: 'fp32' | 'fp16' | 'q4f16') => {
        const model = await AutoModelForCausalLM.from_pretrained(name, { dtype: d });
        const out = await model.generate({ ...enc, max_new_tokens: 12, do_sample: false });
        await model.dispose();
        return (out as unknown as { tolist(): bigint[][] }).tolist()[0]!.map(Number);
      };
      expect(await gen(dtype)).toEqual(await gen('fp32'));
    });

  it('writeDtypeFile writes onnx/model_fp16.onnx / model_q4f16.onnx from model.onnx; an unknown dtype is refused', async () => {
    const dir = join(tmp.root, 'written');
    await writeModelDir(dir, fp32);
    for (const dtype of ['fp16', 'q4f16'] as const) {
      const { file } = await writeDtypeFile(dir, dtype);
      expect(file).toBe(join(dir, 'onnx', `model_${dtype}.onnx`));
      expect(Buffer.from(await readFile(file)).equals(Buffer.from(encodeModelBytes(form(dtype))))).toBe(true);
    }
    await expect(writeDtypeFile(dir, 'int3' as 'fp16')).rejects.toThrow(
      'unknown dtype "int3": expected one of fp16, q4, q4f16, q8',
    );
  });
});
