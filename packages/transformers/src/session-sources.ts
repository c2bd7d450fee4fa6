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
      const session = (await (create as (...a: unknown[]) => Promise<OrtSessionLike>).apply(this, args)) as
        OrtSessionLike | undefined;
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

/** What `session` was created from, if it was created inside {@link withSessionRecording}. */
export function getSessionSource(session: OrtSessionLike): SessionSource | undefined {
  return sources.get(session);
}
