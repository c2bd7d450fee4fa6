import { transformersOrt } from './ort-module.js';
import type { OrtSessionClass, OrtSessionLike, OrtSessionOptions } from './ort-types.js';

/**
 * What a transformers.js session was created from: in Node a file path (local dir or the cache), in the
 * browser the model bytes; and the exact session options transformers.js chose (execution providers,
 * `externalData`, `preferredOutputLocation` for a GPU-resident KV cache, free dimension overrides…).
 */
export interface SessionSource {
  /** The model file path or bytes handed to `InferenceSession.create`. */
  readonly source: string | Uint8Array;
  /** The session options handed to `InferenceSession.create`, copied. */
  readonly options: OrtSessionOptions;
}

// Keyed by the session object: concurrent loads cannot mix their records up, and a released model's entry
// goes away with it.
const sources = new WeakMap<object, SessionSource>();

let depth = 0;
let recordingClass: (OrtSessionClass & { create: OrtSessionClass['create'] }) | undefined;
let originalCreate: OrtSessionClass['create'] | undefined;

/**
 * Runs `load` (typically a transformers.js `from_pretrained` or `pipeline` call) while remembering what every
 * ONNX Runtime session it creates was made from, so an adapter can later be attached to those sessions.
 * transformers.js keeps neither the model bytes nor the session options, and resolving them again would
 * duplicate its dtype/device/cache logic; watching `InferenceSession.create` reads them at the source.
 * Nested and concurrent calls are fine: the hook is installed once and removed when the last call ends.
 */
export async function withSessionRecording<T>(load: () => Promise<T>): Promise<T> {
  const ort = await transformersOrt();
  if (depth++ === 0) {
    const cls = ort.InferenceSession;
    const create = cls.create;
    recordingClass = cls;
    originalCreate = create;
    cls.create = async function (this: unknown, ...args: unknown[]) {
      const run = (a: unknown[]) =>
        (create as (...a: unknown[]) => Promise<OrtSessionLike | undefined>).apply(this, a);
      const session = await createWithExistingOutputs(run, args);
      const [source, options] = args;
      // Only the (pathOrBytes, options) form is used by transformers.js; other overloads are not recorded.
      if (session && args.length <= 2 && (typeof source === 'string' || source instanceof Uint8Array)) {
        sources.set(session, { source, options: { ...((options ?? {}) as OrtSessionOptions) } });
      }
      return session;
    } as OrtSessionClass['create'];
  }
  try {
    return await load();
  } finally {
    if (--depth === 0 && recordingClass && originalCreate) {
      recordingClass.create = originalCreate;
      recordingClass = undefined;
      originalCreate = undefined;
    }
  }
}

/** onnxruntime's refusal of a `preferredOutputLocation` entry naming an output the graph does not have. */
const UNKNOWN_OUTPUT = /"([^"]+)" is not a valid output name/;

/**
 * `create(...args)`, and when onnxruntime refuses it because `preferredOutputLocation` names outputs the graph
 * lacks, again with only the entries the graph has. transformers.js asks for the KV cache on the GPU
 * (`present.N.key`/`value` → `gpu-buffer`) from the config alone, also for a decoder exported without a cache
 * (`fixtures/tiny-llama`: `logits` only), which then fails on WebGPU with `"present.0.key" is not a valid output
 * name`. The retry opens the graph without the setting to read its outputs, and keeps that session when none of the
 * entries exists (the usual case: no cache at all). `args[1]` is updated to the options used, so they are what
 * gets recorded.
 */
async function createWithExistingOutputs(
  create: (args: unknown[]) => Promise<OrtSessionLike | undefined>,
  args: unknown[],
): Promise<OrtSessionLike | undefined> {
  try {
    return await create(args);
  } catch (error) {
    const options = args[1] as OrtSessionOptions | undefined;
    const wanted = options?.['preferredOutputLocation'];
    const message = error instanceof Error ? error.message : String(error);
    if (!UNKNOWN_OUTPUT.test(message) || typeof wanted !== 'object' || wanted === null) throw error;
    const { preferredOutputLocation: _dropped, ...without } = options!;
    const plain = await create([args[0], without, ...args.slice(2)]);
    const outputs = new Set(plain?.outputNames ?? []);
    const kept = Object.entries(wanted).filter(([name]) => outputs.has(name));
    if (kept.length === 0 || !plain) {
      args[1] = without;
      return plain;
    }
    await plain.release?.();
    args[1] = { ...without, preferredOutputLocation: Object.fromEntries(kept) };
    return create(args);
  }
}

/** What `session` was created from, if it was created inside {@link withSessionRecording}. */
export function getSessionSource(session: OrtSessionLike): SessionSource | undefined {
  return sources.get(session);
}
