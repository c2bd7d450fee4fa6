// Browser-safe entry: bytes in, bytes out. File-system helpers live in `@mor/format/node`.
export { AdapterFormatError, SafetensorsError, type FormatErrorContext } from './errors.js';
export * from './safetensors/index.js';
export * from './adapter/index.js';
export * from './hub/index.js';
export * from './export/index.js';
