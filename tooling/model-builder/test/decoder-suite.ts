import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuiltModel } from '../src/index.js';
import {
  checkGenerationAgainstRecompute,
  decoderForward,
  maxAbsDiff,
  row,
  tempModelRoot,
} from './helpers.js';

const PROMPT_IDS = [1, 72, 101, 108, 108, 111, 44, 32, 119, 111];

/** Checks every decoder builder must pass: its KV cache, mask and positions agree with a no-cache forward. */
export function decoderSuite(arch: string, build: (opts: { seed?: number }) => BuiltModel): void {
  describe(`${arch}: decoder consistency`, () => {
    let tmp: ReturnType<typeof tempModelRoot>;
    const built = build({ seed: 7 });
    let session: ort.InferenceSession;
    beforeAll(async () => {
      tmp = tempModelRoot();
      session = await ort.InferenceSession.create(built.onnx);
    });
    afterAll(async () => {
      await session.release();
      tmp.dispose();
    });

    it('declares the transformers.js input/output layout', () => {
      expect(session.inputNames).toEqual(built.inputNames);
      expect(session.outputNames).toEqual(built.outputNames);
      expect(built.inputNames.slice(0, 2)).toEqual(['input_ids', 'attention_mask']);
      expect(built.outputNames[0]).toBe('logits');
      expect(built.inputNames.filter((n) => n.startsWith('past_key_values.')).length).toBe(
        2 * built.cache!.layers,
      );
    });

    it('step-by-step decoding with the KV cache reproduces the full-sequence logits', async () => {
      const full = await decoderForward(session, built, [PROMPT_IDS], [PROMPT_IDS.map(() => 1)]);
      let step = await decoderForward(session, built, [PROMPT_IDS.slice(0, 4)], [[1, 1, 1, 1]]);
      for (let p = 0; p < 4; p++)
        expect(maxAbsDiff(row(step.logits, step.dims, 0, p), row(full.logits, full.dims, 0, p))).toBeLessThan(
          1e-4,
        );
      for (let t = 4; t < PROMPT_IDS.length; t++) {
        step = await decoderForward(
          session,
          built,
          [[PROMPT_IDS[t]!]],
          [PROMPT_IDS.slice(0, t + 1).map(() => 1)],
          step.presents,
        );
        expect(step.presents['present.0.key']!.dims[2]).toBe(t + 1);
        expect(maxAbsDiff(row(step.logits, step.dims, 0, 0), row(full.logits, full.dims, 0, t))).toBeLessThan(
          1e-4,
        );
      }
    });

    it('masks left padding: a padded row gives the logits of the same row unpadded', async () => {
      const short = PROMPT_IDS.slice(0, 6);
      const alone = await decoderForward(session, built, [short], [short.map(() => 1)]);
      const batch = await decoderForward(
        session,
        built,
        [[0, 0, 0, 0, ...short], PROMPT_IDS],
        [[0, 0, 0, 0, 1, 1, 1, 1, 1, 1], PROMPT_IDS.map(() => 1)],
      );
      for (let p = 0; p < short.length; p++) {
        expect(
          maxAbsDiff(row(batch.logits, batch.dims, 0, p + 4), row(alone.logits, alone.dims, 0, p)),
        ).toBeLessThan(1e-4);
      }
      const full = await decoderForward(session, built, [PROMPT_IDS], [PROMPT_IDS.map(() => 1)]);
      expect(maxAbsDiff(row(batch.logits, batch.dims, 1, 9), row(full.logits, full.dims, 0, 9))).toBeLessThan(
        1e-4,
      );
    });

    it('transformers.js greedy generation (KV cache) equals recomputing the full sequence', async () => {
      const { generated, text } = await checkGenerationAgainstRecompute(
        tmp.root,
        arch,
        built,
        'hello world, this is',
        12,
      );
      // A continuation that varies makes the comparison meaningful (a model stuck on one token would pass trivially).
      expect(new Set(generated).size).toBeGreaterThan(2);
      expect(typeof text).toBe('string');
    });

    it('is deterministic in the seed', () => {
      expect(Buffer.from(build({ seed: 7 }).onnx).equals(Buffer.from(built.onnx))).toBe(true);
      expect(Buffer.from(build({ seed: 8 }).onnx).equals(Buffer.from(built.onnx))).toBe(false);
    });
  });
}
