import type { Adapter } from '@mor/format';
import { resolveAdapter, type AdapterInput } from './adapter-input.js';
import { checkOptions, type OptionNames } from './check-options.js';
import { AdapterAttachError } from './errors.js';
import { tapGates, type GateCallback } from './gate-tap.js';
import { buildPatchedModel, type PatchOptions } from './graph-patch.js';
import {
  getSessionSource,
  MorEngineError,
  openSessionModel,
  runningInNode,
  sessionClassOf,
  type OrtSessionLike,
  type OrtSessionOptions,
  type SessionSource,
} from '@mor/engine';

/** A transformers.js model as far as adapters care: its ONNX Runtime sessions by name. */
export interface ModelWithSessions {
  sessions: Record<string, unknown>;
}

/** Options of {@link attachAdapter} and {@link swapAdapter}. */
export interface AttachAdapterOptions extends PatchOptions {
  /**
   * Called after every forward pass (each `generate()` step included) with the router gates of every adapted
   * layer, e.g. for a heat-map. Implies `exposeGates`. MoR and MoELoRA adapters only.
   */
  onGates?: GateCallback;
  /** Which session of `model.sessions` to adapt. Default: `decoder_model_merged` if present, else `model`. */
  session?: string;
  /**
   * The ONNX model the session was created from (path in Node, or bytes), for models loaded outside
   * {@link loadWithAdapter} / {@link withSessionRecording}, whose source transformers.js does not keep.
   */
  source?: string | Uint8Array;
  /** Session options for the adapted session; default: exactly those transformers.js used for the original. */
  sessionOptions?: OrtSessionOptions;
}

/** What {@link attachAdapter} put on a model. */
export interface AttachedAdapter {
  readonly adapter: Adapter;
  /** The adapted session's name in `model.sessions`. */
  readonly session: string;
  /** Names of the router-gate outputs of the adapted session (empty unless gates are exposed). */
  readonly gateOutputs: readonly string[];
  /** Adapter module path → the graph node it was attached to. */
  readonly modules: ReadonlyMap<string, string>;
}

interface AttachState extends AttachedAdapter {
  /** The session transformers.js created, restored by {@link detachAdapter}. */
  readonly original: OrtSessionLike;
  /** The adapted session we created (released on detach/swap). */
  readonly created: OrtSessionLike;
}

const ATTACH_OPTIONS = {
  gate: true,
  exposeGates: true,
  onGates: true,
  session: true,
  source: true,
  sessionOptions: true,
} satisfies OptionNames<AttachAdapterOptions>;

const attached = new WeakMap<object, AttachState>();
const disposeHooked = new WeakSet<object>();

/**
 * transformers.js' `model.dispose()` releases the sessions in `model.sessions`, which no longer include the
 * original we keep for detaching; release it too so a disposed adapted model leaks no native session.
 */
function hookDispose(model: ModelWithSessions): void {
  const m = model as ModelWithSessions & { dispose?: () => Promise<unknown> };
  const dispose = m.dispose;
  if (typeof dispose !== 'function' || disposeHooked.has(model)) return;
  disposeHooked.add(model);
  m.dispose = async function (this: unknown) {
    const state = attached.get(model);
    attached.delete(model);
    const result = await dispose.call(this);
    await state?.original.release?.();
    return result;
  };
}

function pickSession(model: ModelWithSessions, requested?: string): string {
  const names = Object.keys(model.sessions ?? {});
  const name = requested ?? (names.includes('decoder_model_merged') ? 'decoder_model_merged' : 'model');
  if (!names.includes(name)) {
    throw new AdapterAttachError(
      `the model has no session "${name}" (it has: ${names.join(', ') || 'none'})`,
    );
  }
  return name;
}

function sourceOf(base: OrtSessionLike, name: string, options: AttachAdapterOptions): SessionSource {
  const recorded = getSessionSource(base);
  if (options.source !== undefined) {
    const fallback = { executionProviders: [base.config?.device ?? 'cpu'] };
    return { source: options.source, options: options.sessionOptions ?? recorded?.options ?? fallback };
  }
  if (!recorded) {
    // transformers.js keeps no file name, model id or bytes on the model or its sessions (its config has no
    // _name_or_path), so a model loaded elsewhere cannot be traced back to its file: say exactly what is needed.
    throw new AdapterAttachError(
      'transformers.js keeps neither the ONNX file nor the session options of a loaded model, so this one ' +
        'cannot be adapted as it is: load it with loadWithAdapter() or pipelineWithAdapter() (or inside ' +
        'withSessionRecording()), or pass { source } with the file the session was created from (in Node its ' +
        `path, e.g. MODEL_DIR/onnx/model.onnx for dtype fp32; in the browser its bytes)`,
      name,
    );
  }
  return options.sessionOptions ? { ...recorded, options: options.sessionOptions } : recorded;
}

async function buildState(
  model: ModelWithSessions,
  original: OrtSessionLike,
  name: string,
  input: AdapterInput,
  options: AttachAdapterOptions,
): Promise<AttachState> {
  const adapter = await resolveAdapter(input);
  if (options.onGates && adapter.kind === 'lora')
    throw new AdapterAttachError('onGates needs a MoR or MoELoRA adapter (LoRA has no router)', name);
  const src = sourceOf(original, name, options);
  const where = typeof src.source === 'string' ? src.source : null;
  let patched;
  try {
    patched = await buildPatchedModel(src, adapter, {
      ...options,
      exposeGates: options.exposeGates || !!options.onGates,
    });
  } catch (error) {
    if (error instanceof MorEngineError) throw error;
    const failure = new AdapterAttachError((error as Error).message, name, where);
    (failure as { cause?: unknown }).cause = error;
    throw failure;
  }
  // transformers.js' options may point at the original's external data files; the new model carries its own.
  const { externalData: _dropped, ...sessionOptions } = src.options;
  // Through the original session's own class: the same onnxruntime module instance as transformers.js (in Node
  // onnxruntime-node, which opens large weights from mapped files: see openSessionModel).
  const created = await openSessionModel(
    patched,
    (source, o) => sessionClassOf(original).create(source, o),
    sessionOptions,
    runningInNode(),
  );
  if (original.config) created.config = original.config;
  const installed = options.onGates ? tapGates(created, patched.gateOutputs, options.onGates) : created;
  model.sessions[name] = installed;
  return {
    adapter,
    session: name,
    gateOutputs: patched.gateOutputs,
    modules: patched.modules,
    original,
    created,
  };
}

function publicView(state: AttachState): AttachedAdapter {
  const { adapter, session, gateOutputs, modules } = state;
  return { adapter, session, gateOutputs, modules };
}

/**
 * Puts an adapter on a loaded transformers.js model: the session's ONNX graph gets the adapter branch beside
 * every target layer, and the new session replaces `model.sessions[session]`, so `model.generate()` (KV cache
 * included), `model(inputs)` and pipelines built on the model run with the adapter. The original session is
 * kept for {@link detachAdapter}.
 *
 * @param adapter An adapter from `@mor/format`, or (in Node) an adapter directory.
 * @throws {AdapterAttachError} when an adapter is already attached, the model's source is unknown, or the
 *   adapter does not fit the graph (a target missing, shapes that disagree).
 */
export async function attachAdapter(
  model: ModelWithSessions,
  adapter: AdapterInput,
  options: AttachAdapterOptions = {},
): Promise<AttachedAdapter> {
  checkOptions('attachAdapter', options, ATTACH_OPTIONS);
  if (attached.has(model)) {
    throw new AdapterAttachError(
      'an adapter is already attached; use swapAdapter() or detachAdapter() first',
    );
  }
  const name = pickSession(model, options.session);
  const state = await buildState(model, model.sessions[name] as OrtSessionLike, name, adapter, options);
  attached.set(model, state);
  hookDispose(model);
  return publicView(state);
}

/**
 * Replaces the attached adapter (or attaches one when there is none). The new session is built before the old
 * one is dropped, so a failure leaves the model as it was.
 */
export async function swapAdapter(
  model: ModelWithSessions,
  adapter: AdapterInput,
  options: AttachAdapterOptions = {},
): Promise<AttachedAdapter> {
  checkOptions('swapAdapter', options, ATTACH_OPTIONS);
  const previous = attached.get(model);
  if (!previous) return attachAdapter(model, adapter, options);
  const name = options.session ?? previous.session;
  if (name !== previous.session) {
    throw new AdapterAttachError(`the adapter is attached to session "${previous.session}", not "${name}"`);
  }
  const state = await buildState(model, previous.original, name, adapter, options);
  attached.set(model, state);
  await previous.created.release?.();
  return publicView(state);
}

/**
 * Takes the adapter off: the original session goes back into `model.sessions` and the adapted one is released.
 * Returns false when no adapter was attached.
 */
export async function detachAdapter(model: ModelWithSessions): Promise<boolean> {
  const state = attached.get(model);
  if (!state) return false;
  model.sessions[state.session] = state.original;
  attached.delete(model);
  await state.created.release?.();
  return true;
}

/** The adapter currently attached to `model`, or undefined. */
export function getAttachedAdapter(model: ModelWithSessions): AttachedAdapter | undefined {
  const state = attached.get(model);
  return state && publicView(state);
}
