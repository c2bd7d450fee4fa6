// The main entry must run in a browser: no node:* imports and no Node globals outside src/node/.
// (The build preset includes Node types because of the ./node entry, so tsc alone would not catch this.)
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('browser-safe main entry', () => {
  it('imports nothing from node:* and uses no Buffer/process outside src/node/', () => {
    const offenders = sourceFiles(SRC)
      .filter((file) => !relative(SRC, file).startsWith('node'))
      .filter((file) => /from ['"]node:|\bBuffer\.|\bprocess\./.test(readFileSync(file, 'utf8')))
      .map((file) => relative(SRC, file));
    expect(offenders).toEqual([]);
  });
});
