import { ADAPTER_KIND_LABELS, type Adapter } from '@mor/format';
import { applyAdapter, decodeModel, type ModelProto } from '@mor/onnx';
import { encodeForSession, requirePlatform } from '@mor/engine';
import type { SessionSource } from '@mor/engine';
import { resolveGate, type GateSpec } from './gate-spec.js';
import { AdapterAttachError } from './errors.js';

/** Options of {@link buildPatchedModel}. */
export interface PatchOptions {
  /** A fixed gate for a MoR adapter (static routing). Without it the adapter's router decides per token. */
  gate?: GateSpec;
  /** Add the router gates as graph outputs (`mor_gates.<module>`). */
  exposeGates?: boolean;
}

/** The adapted model, ready for `InferenceSession.create`. */
export interface PatchedModel {
  readonly bytes: Uint8Array;
  /** External data to hand to onnxruntime as `session_options.externalData` (only for models past 2 GiB). */
  readonly externalData: Array<{ path: string; data: Uint8Array }>;
  /** Names of the gate outputs added (empty unless `exposeGates`). */
  readonly gateOutputs: string[];
  /** Adapter module → the graph node it was attached to. */
  readonly modules: ReadonlyMap<string, string>;
}

/** Reads the ONNX graph a session was created from, external data included. */
async function readGraph(src: SessionSource): Promise<ModelProto> {
  if (typeof src.source === 'string') return requirePlatform('model paths').readModelFile(src.source);
  const listed = (src.options['externalData'] ?? []) as Array<{ path?: string; data?: unknown } | string>;
  return decodeModel(src.source, {
    externalData: (location) => {
      for (const entry of listed) {
        if (typeof entry === 'object' && entry.path === location && entry.data instanceof Uint8Array)
          return entry.data;
      }
      throw new AdapterAttachError(
        `external data file "${location}" is not among the session's externalData`,
      );
    },
  });
}

/**
 * Reads the session's model, inserts the adapter branch beside every target layer (all input and output names,
 * KV cache included, stay as they were) and encodes the result.
 */
export async function buildPatchedModel(
  src: SessionSource,
  adapter: Adapter,
  options: PatchOptions,
): Promise<PatchedModel> {
  if (options.gate !== undefined && adapter.kind !== 'mor') {
    // MoELoRA's router is part of the adapter (mor-spec.md §7): it has no static routing to fix a gate for.
    throw new AdapterAttachError(
      `a gate applies to MoR adapters only; this one is a ${ADAPTER_KIND_LABELS[adapter.kind]}`,
    );
  }
  const gate =
    options.gate === undefined || adapter.kind !== 'mor'
      ? undefined
      : resolveGate(options.gate, adapter.config.experts, adapter.staticGates);
  const graph = await readGraph(src);
  const result = applyAdapter(graph, adapter, {
    ...(gate ? { routing: 'static' as const, gate } : {}),
    exposeGates: options.exposeGates ?? false,
    // The inference form: parameter-only products folded into constants and no shape ops in the branch
    // (7 kernels per layer instead of 12). It is what keeps dynamic MoR decode within ~1.2x of the base model
    // (bench/inference.mjs); training builds its own graph with the parameters as inputs.
    foldExperts: true,
  });
  const modules = new Map<string, string>();
  for (const [module, layer] of result.layers) modules.set(module, layer.nodes[0] ?? layer.outputNode);
  return { ...encodeForSession(graph), gateOutputs: result.gateOutputs, modules };
}
