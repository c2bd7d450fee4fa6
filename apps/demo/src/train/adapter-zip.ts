import { strToU8, zipSync } from 'fflate';
import {
  ADAPTER_CONFIG_FILE,
  ADAPTER_WEIGHTS_FILE,
  TRAINING_SUMMARY_FILE,
  serializeAdapter,
  type Adapter,
  type TrainingSummary,
} from '@mor/format';

/**
 * A zip of the adapter directory (adapter_config.json + adapter_model.safetensors, and training_summary.json for
 * an adapter trained in the page), written by `@mor/format` so PEFT-style loaders and `parseAdapter` read it
 * back. Stored uncompressed: float32 weights barely compress.
 */
export function adapterZip(adapter: Adapter, summary?: TrainingSummary): Uint8Array {
  const { configJson, safetensors } = serializeAdapter(adapter);
  const files: Record<string, Uint8Array> = {
    [ADAPTER_CONFIG_FILE]: strToU8(configJson),
    [ADAPTER_WEIGHTS_FILE]: safetensors,
  };
  if (summary) files[TRAINING_SUMMARY_FILE] = strToU8(`${JSON.stringify(summary, null, 2)}\n`);
  return zipSync(files, { level: 0, mtime: new Date('2025-01-01T00:00:00Z') });
}

/** Offers `bytes` to the user as a file download. */
export function downloadBytes(bytes: Uint8Array, fileName: string, type = 'application/zip'): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
