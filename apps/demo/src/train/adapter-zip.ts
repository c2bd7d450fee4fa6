import { strToU8, zipSync } from 'fflate';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, serializeAdapter, type Adapter } from '@mor/format';

/**
 * A zip of the adapter directory (adapter_config.json + adapter_model.safetensors), written by `@mor/format` so
 * PEFT-style loaders and `parseAdapter` read it back. Stored uncompressed: float32 weights barely compress.
 */
export function adapterZip(adapter: Adapter): Uint8Array {
  const { configJson, safetensors } = serializeAdapter(adapter);
  return zipSync(
    { [ADAPTER_CONFIG_FILE]: strToU8(configJson), [ADAPTER_WEIGHTS_FILE]: safetensors },
    { level: 0, mtime: new Date('2025-01-01T00:00:00Z') },
  );
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
