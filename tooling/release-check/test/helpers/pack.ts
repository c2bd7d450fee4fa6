import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exec } from './exec.js';
import { REPO_ROOT, type Publishable } from './repo.js';

/** The subset of package.json fields the release check looks at. */
export interface PackageJson {
  name: string;
  version: string;
  private?: boolean;
  license?: string;
  keywords?: string[];
  sideEffects?: boolean | string[];
  engines?: Record<string, string>;
  files?: string[];
  main?: string;
  types?: string;
  bin?: Record<string, string>;
  exports?: Record<string, string | Record<string, string>>;
  publishConfig?: { access?: string };
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

/** One `npm pack` result. */
export interface Packed {
  name: string;
  /** Absolute path of the .tgz. */
  tarball: string;
  /** Paths inside the tarball, relative to the package root. */
  files: string[];
  /** The package.json as published (npm pack copies it unchanged for these packages). */
  pkg: PackageJson;
  ms: number;
}

/** Packs `p` (its dist must be built) into `dest` with `npm pack`, exactly what `npm publish` would upload. */
export async function pack(p: Publishable, dest: string): Promise<Packed> {
  const cwd = join(REPO_ROOT, 'packages', p.dir);
  const { stdout, ms } = await exec('npm', ['pack', '--json', '--pack-destination', dest], { cwd });
  const [info] = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{
    filename: string;
    files: Array<{ path: string }>;
  }>;
  if (!info) throw new Error(`npm pack in ${cwd} printed no result: ${stdout}`);
  const pkg = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8')) as PackageJson;
  return { name: p.name, tarball: join(dest, info.filename), files: info.files.map((f) => f.path), pkg, ms };
}
