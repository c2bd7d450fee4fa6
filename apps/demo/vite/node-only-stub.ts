// @mor/transformers and @mor/format reach their Node-only code (file system, onnxruntime-node) through dynamic
// imports that never run in a browser. Without this plugin Vite still bundles those modules, with a warning for
// every `node:*` import they make; here they become one tiny module that fails loudly if it were ever loaded.
import type { Plugin } from 'vite';

const STUB_ID = '\0mor-node-only';
const NODE_ENTRIES = new Set(['@mor/format/node', '@mor/onnx/node', '@mor/transformers/node']);
/** Relative imports of a package's dist/node/ folder, from inside that package's dist/. */
const NODE_DIR_IMPORT = /^\.\.?\/(?:.*\/)?node\/[^/]+\.js$/;
const MOR_PACKAGE_DIST = /[\\/]packages[\\/][^\\/]+[\\/]dist[\\/]/;

export function nodeOnlyStub(): Plugin {
  return {
    name: 'mor-node-only-stub',
    enforce: 'pre',
    resolveId(source, importer) {
      if (NODE_ENTRIES.has(source)) return STUB_ID;
      if (importer && MOR_PACKAGE_DIST.test(importer) && NODE_DIR_IMPORT.test(source)) return STUB_ID;
      return null;
    },
    load(id) {
      if (id !== STUB_ID) return null;
      return "throw new Error('this @mor module is Node-only and cannot run in a browser');\nexport {};\n";
    },
  };
}
