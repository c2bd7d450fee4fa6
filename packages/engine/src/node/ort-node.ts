import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { OrtModuleLike } from '../ort-types.js';

/** A `require` that resolves from transformers.js' own file, so it reaches the same onnxruntime-node copy. */
function requireFromTransformers(): NodeJS.Require {
  return createRequire(import.meta.resolve('@huggingface/transformers'));
}

/** onnxruntime-node as transformers.js loads it (`createRequire(import.meta.url)('onnxruntime-node')`). */
export function requireTransformersOrtNode(): OrtModuleLike {
  return requireFromTransformers()('onnxruntime-node') as OrtModuleLike;
}

/** Where onnxruntime-node keeps its native libraries, and the version it is. */
function nativeDir(): { dir: string; version: string } {
  const req = requireFromTransformers();
  const pkgJson = req.resolve('onnxruntime-node/package.json');
  const version = (req('onnxruntime-node/package.json') as { version: string }).version;
  const napi = 'napi-v6'; // the only N-API tier onnxruntime-node ships binaries for
  return { dir: join(dirname(pkgJson), 'bin', napi, process.platform, process.arch), version };
}

/** The provider libraries onnxruntime-node's CUDA execution provider loads at session creation. */
const CUDA_LIBRARIES = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'];

/**
 * Why the CUDA execution provider cannot load here, or null when its libraries are in place. onnxruntime-node
 * only fails at session creation with "Failed to load shared library"; checking first gives a message that
 * says what is missing and how to get it.
 */
export function missingCudaProvider(): { reason: string; hint: string } | null {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return {
      reason: `onnxruntime-node ships its CUDA provider for linux/x64 only (this is ${process.platform}/${process.arch})`,
      hint: 'Use device "cpu" or "webgpu".',
    };
  }
  const { dir, version } = nativeDir();
  const missing = CUDA_LIBRARIES.filter((lib) => !existsSync(join(dir, lib)));
  if (missing.length === 0) return null;
  return {
    reason: `onnxruntime-node ${version} has no CUDA provider library (${missing.join(', ')} missing in ${dir})`,
    hint:
      `Install it with \`ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node\` (downloads ` +
      `Microsoft.ML.OnnxRuntime.Gpu.Linux ${version} from nuget.org; needs CUDA 12 and cuDNN 9), or copy ` +
      `the provider libraries built for onnxruntime ${version} into that folder.`,
  };
}

/**
 * Gives Dawn (onnxruntime-node's WebGPU) the XDG_RUNTIME_DIR it looks for when it starts. Without one its Vulkan
 * backend writes `error: XDG_RUNTIME_DIR is invalid or not set in the environment.` to stderr from native code on
 * a run that then succeeds, which reads as our own `error:` line. A private empty folder (mode 0700, as the XDG
 * spec asks) is set before the first WebGPU session, only when none is set, and removed when the process exits.
 */
export function prepareDawnEnvironment(): void {
  if (process.env['XDG_RUNTIME_DIR']) return;
  const dir = mkdtempSync(join(tmpdir(), 'mor-xdg-runtime-'));
  process.env['XDG_RUNTIME_DIR'] = dir;
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
}
