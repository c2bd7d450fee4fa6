// Bundles a package's browser entry as a browser app would (Vite 8, browser export conditions) and reports every
// Node builtin and every `node/` file of an @mor package the bundle reaches, statically or through import().
// Third-party packages are left external once checked (they ship their own browser builds).
import { isBuiltin } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

/** Packages that only run in Node, reached by name. */
const NODE_ONLY_PACKAGES = ['onnxruntime-node'];
/** A file inside a `node/` folder of an @mor package (src/node/, dist/node/, src/trainer/node/…). */
const NODE_DIR = /[\\/]packages[\\/][^\\/]+[\\/](?:src|dist)[\\/](?:[^\\/]+[\\/])*node[\\/]/;
const BARE = /^(?![./\\])(?!\0)(?![a-zA-Z]:)/;

/**
 * @param {URL | string} entry the entry file
 * @returns {Promise<{ modules: string[]; nodeOnly: string[] }>} the bundled files, and `what ← importer` for each
 *   Node builtin, Node-only package or `node/` file reached (empty when the entry is browser-safe)
 */
export async function browserBundleReport(entry) {
  const file = typeof entry === 'string' ? entry : fileURLToPath(entry);
  /** @type {string[]} */
  const nodeOnly = [];
  /** @type {Set<string>} */
  const modules = new Set();
  const where = (importer) => (importer ? ` ← ${importer}` : '');
  await build({
    configFile: false,
    logLevel: 'silent',
    resolve: { conditions: ['browser', 'module', 'import', 'default'] },
    plugins: [
      {
        name: 'mor-node-check',
        enforce: 'pre',
        async resolveId(source, importer, options) {
          if (source.startsWith('\0')) return null;
          if (isBuiltin(source)) {
            nodeOnly.push(`${source}${where(importer)}`);
            return { id: source, external: true };
          }
          const bare = BARE.test(source) && !source.startsWith('@mor/');
          if (bare && NODE_ONLY_PACKAGES.some((p) => source === p || source.startsWith(`${p}/`)))
            nodeOnly.push(`${source}${where(importer)}`);
          if (bare) return { id: source, external: true };
          const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
          if (resolved && !resolved.external) {
            modules.add(resolved.id);
            if (NODE_DIR.test(resolved.id)) nodeOnly.push(`${resolved.id}${where(importer)}`);
          }
          return resolved;
        },
      },
    ],
    build: {
      write: false,
      target: 'es2022',
      minify: false,
      reportCompressedSize: false,
      lib: { entry: file, formats: ['es'], fileName: 'entry' },
    },
  });
  return { modules: [...modules], nodeOnly };
}
