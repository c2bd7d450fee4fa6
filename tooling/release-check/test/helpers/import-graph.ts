import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

/** A module specifier found in a file, and whether it is a dynamic `import()`. */
interface Edge {
  specifier: string;
  dynamic: boolean;
}

/** What a browser bundler would pull in from one entry. */
export interface Reach {
  /** Files of `@mor/*` packages reached, relative to node_modules. */
  files: string[];
  /** `node:*` / built-in specifiers reached, each with the file that imports it. */
  builtins: string[];
  /** Files that use `process.*` or `Buffer.*` (block comments stripped). */
  nodeGlobals: string[];
}

const STATIC = /(?:^|[;\s])(?:import|export)\s+(?:[^'";]*?\sfrom\s*)?['"]([^'"]+)['"]/g;
const DYNAMIC = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

function edges(source: string): Edge[] {
  const out: Edge[] = [];
  for (const m of source.matchAll(STATIC)) out.push({ specifier: m[1]!, dynamic: false });
  for (const m of source.matchAll(DYNAMIC)) out.push({ specifier: m[1]!, dynamic: true });
  return out;
}

/** Uses of Node's globals (a member access, so prose in comments does not count). */
const NODE_GLOBAL_USE =
  /\bprocess\.(?:env|versions|platform|arch|cwd|exit|argv|stdout|stderr|nextTick|hrtime)\b|\bBuffer\.(?:from|alloc|allocUnsafe|concat|isBuffer|byteLength)\b/;

const isBuiltin = (s: string): boolean => s.startsWith('node:') || builtinModules.includes(s.split('/')[0]!);

/** `@mor/x` or `@mor/x/sub` → its file, through the installed package's `exports` (default condition). */
function resolveMor(nodeModules: string, specifier: string): string {
  const [scope, name, ...rest] = specifier.split('/');
  const root = join(nodeModules, scope!, name!);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    exports: Record<string, string | { default: string }>;
  };
  const key = rest.length ? `./${rest.join('/')}` : '.';
  const target = pkg.exports[key];
  if (!target) throw new Error(`${specifier}: not in ${name}'s exports`);
  return join(root, typeof target === 'string' ? target : target.default);
}

/**
 * Follows the imports of `entry` through every `@mor/*` file it reaches (third-party packages are not entered),
 * like a bundler would. With `followDynamic: false` only static imports count: code behind an `import()` is
 * what a runtime check keeps from ever loading in a browser.
 */
export function reachFrom(nodeModules: string, entry: string, followDynamic: boolean): Reach {
  const seen = new Set<string>();
  const builtins: string[] = [];
  const nodeGlobals: string[] = [];
  const queue = [entry];
  while (queue.length) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    const rel = relative(nodeModules, file);
    if (NODE_GLOBAL_USE.test(source.replace(/\/\*[\s\S]*?\*\//g, ''))) nodeGlobals.push(rel);
    for (const { specifier, dynamic } of edges(source)) {
      if (dynamic && !followDynamic) continue;
      if (isBuiltin(specifier)) builtins.push(`${rel} -> ${specifier}`);
      else if (specifier.startsWith('.')) queue.push(resolve(dirname(file), specifier));
      else if (specifier.startsWith('@mor/')) queue.push(resolveMor(nodeModules, specifier));
    }
  }
  return { files: [...seen].map((f) => relative(nodeModules, f)).sort(), builtins, nodeGlobals };
}
