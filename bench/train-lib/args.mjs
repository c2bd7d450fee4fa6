// Command-line options of bench/train.mjs and its workers: `--name value`, numeric unless noted.
export const TRAIN_DEFAULTS = {
  hidden: 256,
  layers: 4,
  heads: 4,
  kvHeads: 2,
  intermediate: 512,
  vocab: 4096,
  batch: 8,
  seq: 128,
  steps: 10,
  warmup: 2,
  threads: 2,
  r: 8,
  experts: 8,
  /** Top-k routing for MoR (0: dense, the paper's). */
  topK: 0,
  seed: 0,
};
const STRINGS = ['json', 'only', 'profile', 'method'];

const kebab = (s) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Parses `argv` against {@link TRAIN_DEFAULTS}; `--only a,b` is a list, `--json/--profile/--method` strings. */
export function parseTrainArgs(argv) {
  const out = { ...TRAIN_DEFAULTS, json: null, only: null, profile: null, method: null };
  const byFlag = new Map(Object.keys(out).map((k) => [`--${kebab(k)}`, k]));
  for (let i = 0; i < argv.length; i += 2) {
    const key = byFlag.get(argv[i]);
    const value = argv[i + 1];
    if (!key || value === undefined)
      throw new Error(`unknown or incomplete option ${argv[i]} (known: ${[...byFlag.keys()].join(' ')})`);
    if (key === 'only') out.only = value.split(',');
    else if (STRINGS.includes(key)) out[key] = value;
    else {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0)
        throw new Error(`${argv[i]} needs a non-negative integer, got ${value}`);
      out[key] = n;
    }
  }
  if (out.steps < 1) throw new Error('--steps must be at least 1');
  return out;
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** A causal-LM batch of `batchSize` rows of `seqLength` token ids (mask all ones, labels = ids: the loss shifts). */
export function lmBatch(ids, batchSize, seqLength) {
  return {
    inputIds: ids,
    attentionMask: new BigInt64Array(ids.length).fill(1n),
    labels: ids.slice(),
    batchSize,
    seqLength,
  };
}
