import { getSessionSource, type OrtSessionLike } from '@mor/engine';
import type { ModelWithSessions } from '@mor/transformers';

/** The base model's ONNX as transformers.js loaded it: what the training engine differentiates. */
export interface BaseModelSource {
  /** The `model.onnx` bytes (before any adapter was patched in). */
  bytes: Uint8Array;
  /** External-data files by location, when the export keeps its weights outside the graph. */
  externalData: Map<string, Uint8Array>;
}

interface ExternalDataEntry {
  path?: unknown;
  data?: unknown;
}

/** The session an adapter goes on (as `attachAdapter` picks it): `decoder_model_merged` if present, else `model`. */
export function adaptedSessionName(model: ModelWithSessions): string {
  return 'decoder_model_merged' in model.sessions ? 'decoder_model_merged' : 'model';
}

/**
 * Reads the recorded source of the model's main session. `loadWithAdapter` records what transformers.js handed
 * `InferenceSession.create` (bytes in a browser); this runs right after loading, before any adapter replaces the
 * session, so it is the base graph. A URL source is fetched.
 */
export async function baseModelSource(model: ModelWithSessions): Promise<BaseModelSource> {
  const name = adaptedSessionName(model);
  const session = model.sessions[name];
  const recorded = session ? getSessionSource(session as OrtSessionLike) : undefined;
  if (!recorded)
    throw new Error(`no recorded ONNX source for session "${name}" (was it loaded with loadWithAdapter?)`);
  let bytes: Uint8Array;
  if (typeof recorded.source === 'string') {
    const response = await fetch(recorded.source);
    if (!response.ok) throw new Error(`GET ${recorded.source}: ${response.status} ${response.statusText}`);
    bytes = new Uint8Array(await response.arrayBuffer());
  } else {
    bytes = recorded.source;
  }
  const externalData = new Map<string, Uint8Array>();
  const entries = (recorded.options as { externalData?: unknown }).externalData;
  if (Array.isArray(entries)) {
    for (const entry of entries as ExternalDataEntry[]) {
      if (typeof entry.path === 'string' && entry.data instanceof Uint8Array)
        externalData.set(entry.path, entry.data);
    }
  }
  return { bytes, externalData };
}
