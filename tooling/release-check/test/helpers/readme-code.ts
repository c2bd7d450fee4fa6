import { readFileSync } from 'node:fs';

/** A named import a README's code shows, e.g. `{ name: 'loadModel', from: '@mor/transformers/node' }`. */
export interface ReadmeImport {
  name: string;
  from: string;
  readme: string;
}

/** Every `import { a, b } from '@mor/…'` inside the fenced TypeScript blocks of a README. */
export function readmeImports(readmePath: string): ReadmeImport[] {
  const text = readFileSync(readmePath, 'utf8');
  const out: ReadmeImport[] = [];
  for (const block of text.matchAll(/```(?:ts|typescript|js)\n([\s\S]*?)```/g)) {
    for (const m of block[1]!.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'(@mor\/[^']+)'/g)) {
      for (const part of m[1]!.split(',')) {
        const name = part
          .replace(/^\s*type\s+/, '')
          .split(/\s+as\s+/)[0]!
          .trim();
        if (name) out.push({ name, from: m[2]!, readme: readmePath });
      }
    }
  }
  return out;
}

/**
 * A TypeScript file that imports every README name under an alias, so `tsc` checks that each one exists.
 * `import type` accepts values and types alike, and needs no use of the name.
 */
export function readmeImportsModule(imports: readonly ReadmeImport[]): string {
  return imports
    .map((imp, i) => `import type { ${imp.name} as _r${i} } from '${imp.from}'; // ${imp.readme}`)
    .join('\n');
}

/** The fenced TypeScript blocks of a README, each as a module (top-level `await` needs one). */
export function readmeSnippets(readmePath: string): string[] {
  const text = readFileSync(readmePath, 'utf8');
  return [...text.matchAll(/```(?:ts|typescript)\n([\s\S]*?)```/g)].map((m) => `${m[1]!}\nexport {};\n`);
}

/**
 * Errors a README snippet may have: names it leaves to the reader (`batch`, `onnxBytes`, …). Everything else —
 * a wrong export, option name or argument type — counts.
 */
export const FREE_NAME_ERRORS = ['TS2304', 'TS18004'];
