import { Tensor, type PreTrainedModel } from '@huggingface/transformers';
import { MorInputError } from '@mor/engine';

/** Options of {@link forwardLogits}. */
export interface ForwardLogitsOptions {
  /** `[batch][seq]` 0/1 mask; default all ones (docs/cli.md `mor forward`). */
  attentionMask?: number[][];
}

/** Logits as the CLI writes them: `{ shape, data }`, row-major float32 (float16 outputs decoded). */
export interface LogitsResult {
  shape: number[];
  data: Float32Array;
  /** Every other float output of the forward pass by name (e.g. `mor_gates.<module>` when gates are exposed). */
  extra: Record<string, { shape: number[]; data: Float32Array }>;
}

/**
 * A float output's values as float32: fp16 / q4f16 graphs (`dtype: 'fp16'`) return float16 logits, whose data
 * is the raw bit patterns (Uint16Array) where the runtime has no Float16Array; transformers.js' `to` decodes them.
 */
export function float32Values(t: Tensor): Float32Array {
  return t.type === 'float16'
    ? (t.to('float32').data as Float32Array)
    : Float32Array.from(t.data as Float32Array);
}

function int64Tensor(rows: number[][], what: string): Tensor {
  const batch = rows.length;
  const seq = rows[0]?.length ?? 0;
  if (batch === 0 || seq === 0) throw new MorInputError(`${what} must be a non-empty [batch][seq] array`);
  const data = new BigInt64Array(batch * seq);
  rows.forEach((row, b) => {
    if (row.length !== seq)
      throw new MorInputError(
        `${what} rows must have equal lengths (row 0 has ${seq}, row ${b} has ${row.length})`,
      );
    row.forEach((v, t) => {
      if (!Number.isInteger(v)) throw new MorInputError(`${what}[${b}][${t}] is not an integer: ${v}`);
      data[b * seq + t] = BigInt(v);
    });
  });
  return new Tensor('int64', data, [batch, seq]);
}

/**
 * One forward pass over whole token rows (no generation, no KV cache carried over) — what `mor forward` and
 * classification need. Works for causal LMs (`[batch, seq, vocab]`) and classifiers (`[batch, labels]`).
 */
export async function forwardLogits(
  model: PreTrainedModel,
  inputIds: number[][],
  options: ForwardLogitsOptions = {},
): Promise<LogitsResult> {
  const input_ids = int64Tensor(inputIds, 'inputIds');
  const mask = options.attentionMask ?? inputIds.map((row) => row.map(() => 1));
  const attention_mask = int64Tensor(mask, 'attentionMask');
  if (attention_mask.dims.join() !== input_ids.dims.join()) {
    throw new MorInputError(`attentionMask has shape [${attention_mask.dims}], inputIds [${input_ids.dims}]`);
  }
  const out = (await model({ input_ids, attention_mask })) as Record<string, Tensor | undefined>;
  const logits = out['logits'];
  if (!logits)
    throw new MorInputError(`the model returned no logits (outputs: ${Object.keys(out).join(', ')})`);
  const extra: LogitsResult['extra'] = {};
  for (const [name, t] of Object.entries(out)) {
    if (name === 'logits' || !(t instanceof Tensor) || name.startsWith('present')) continue;
    if (t.type !== 'float32' && t.type !== 'float16') continue;
    extra[name] = { shape: [...t.dims], data: float32Values(t) };
  }
  return { shape: [...logits.dims], data: float32Values(logits), extra };
}
