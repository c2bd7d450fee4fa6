// `--name value` command-line options with numeric defaults.
import { availableParallelism } from 'node:os';

export const DEFAULTS = {
  hidden: 512,
  layers: 8,
  heads: 8,
  kvHeads: 4,
  intermediate: 1376,
  vocab: 4096,
  promptTokens: 128,
  newTokens: 64,
  repeats: 3,
  threads: availableParallelism(),
  seed: 0,
};

const kebab = (s) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** A bad command line: the message is printed alone (no stack) and the script exits with 2. */
function usageError(message) {
  console.error(`error: ${message}`);
  process.exit(2);
}

/**
 * Parses `--name value` pairs against `defaults` (kebab-case flags for camelCase keys): numbers must be
 * non-negative integers; `strings` are kept as given, `lists` split on commas (both default to null).
 * `--help` lists the flags with their defaults and exits.
 */
export function parseFlags(argv, defaults, { strings = [], lists = [] } = {}) {
  const unset = [...strings, ...lists].filter((k) => !(k in defaults));
  const out = { ...defaults, ...Object.fromEntries(unset.map((k) => [k, null])) };
  const byFlag = new Map(Object.keys(out).map((k) => [`--${kebab(k)}`, k]));
  if (argv.includes('--help') || argv.includes('-h')) {
    const kind = (k) => (lists.includes(k) ? 'a,b,…' : strings.includes(k) ? 'text' : 'integer');
    for (const [flag, k] of byFlag) console.log(`  ${flag} <${kind(k)}>  (default: ${out[k] ?? 'none'})`);
    process.exit(0);
  }
  for (let i = 0; i < argv.length; i += 2) {
    const key = byFlag.get(argv[i]);
    const value = argv[i + 1];
    if (!key || value === undefined)
      usageError(
        `unknown or incomplete option ${argv[i]} (known: ${[...byFlag.keys()].join(' ')}; --help lists them)`,
      );
    if (lists.includes(key)) out[key] = value.split(',');
    else if (strings.includes(key)) out[key] = value;
    else {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0) usageError(`${argv[i]} needs a non-negative integer, got ${value}`);
      out[key] = n;
    }
  }
  return out;
}

/**
 * Parses `argv` against {@link DEFAULTS}; `--json <file>`, `--only <a,b>`, `--dtype fp32|fp16` and
 * `--device cpu|cuda|webgpu` are the non-numeric extras.
 */
export function parseArgs(argv) {
  const out = parseFlags(
    argv,
    { ...DEFAULTS, dtype: 'fp32', device: 'cpu' },
    { strings: ['json', 'dtype', 'device'], lists: ['only'] },
  );
  if (out.newTokens < 2) usageError('--new-tokens must be at least 2 (one prefill token, then decode steps)');
  if (out.dtype !== 'fp32' && out.dtype !== 'fp16')
    usageError(`--dtype must be fp32 or fp16, got ${out.dtype}`);
  return out;
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** The Llama shape flags of a parsed command line, as `buildLlama` takes them. */
export const llamaShape = (o) => ({
  hidden: o.hidden,
  layers: o.layers,
  heads: o.heads,
  kvHeads: o.kvHeads,
  intermediate: o.intermediate,
  vocab: o.vocab,
  seed: o.seed,
});
