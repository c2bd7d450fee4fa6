import type { Adapter } from '@mor/format';
import type { ModelProto } from '@mor/onnx';
import { MorEngineError } from './errors.js';
import type { OrtModuleLike } from './ort-types.js';
import type { SessionModel } from './session-model.js';

/**
 * What a host platform lends the browser-safe code, the way onnxruntime's `js/node` registers its backend with
 * `js/common`: the code here imports nothing of Node, `@mor/engine/node` registers this once on import.
 */
export interface MorPlatform {
  /** Shown in errors (`node`). */
  readonly name: string;
  /** The onnxruntime module transformers.js runs its sessions with here (onnxruntime-node, from its location). */
  ort(): OrtModuleLike;
  /** Opens a model with external data through files onnxruntime maps rather than copies (node/temp-model-files.ts). */
  openThroughFiles<S>(model: SessionModel, open: (path: string) => Promise<S>): Promise<S>;
  /**
   * Writes models to files that stay until `remove()` (or process exit), external data shared between them
   * where it is the same tensor: a session opened later maps them without the caller keeping the bytes. The
   * model's own external data files in `linked.dir` are linked beside them, never read.
   */
  stageModelFiles(
    models: Record<string, SessionModel>,
    linked?: { dir: string; files: readonly string[] } | null,
  ): Promise<StagedModels>;
  /** Readies `device` before its first session; returns why it cannot work here (and how to fix it), or null. */
  prepareDevice(device: string): { reason: string; hint: string } | null;
  /** An adapter directory on disk, or a Hub id pulled into the cache. */
  loadAdapterDir(path: string): Promise<Adapter>;
  /** An ONNX file on disk, external data included. */
  readModelFile(path: string): Promise<ModelProto>;
}

/** Models written to files by {@link MorPlatform.stageModelFiles}. */
export interface StagedModels {
  /** The model file of `name` (external data beside it). */
  path(name: string): string;
  /** Deletes the files (after the sessions that map them are released). */
  remove(): Promise<void>;
}

/** A Node-only feature used where no platform was registered. */
export class PlatformMissingError extends MorEngineError {
  override name = 'PlatformMissingError';
  constructor(readonly feature: string) {
    super(`${feature} need @mor/engine/node (import it once in Node)`);
  }
}

let registered: MorPlatform | undefined;

/** Makes `platform` the one the browser-safe code asks for files, devices and onnxruntime-node. */
export function registerPlatform(platform: MorPlatform): void {
  registered = platform;
}

/** The registered platform, if any. */
export function registeredPlatform(): MorPlatform | undefined {
  return registered;
}

/** The registered platform, or a {@link PlatformMissingError} naming `feature` (plural: "adapter paths"). */
export function requirePlatform(feature: string): MorPlatform {
  if (!registered) throw new PlatformMissingError(feature);
  return registered;
}
