import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The monorepo root (this file is tooling/release-check/test/helpers/repo.ts). */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** A fixture directory or file, reached the way every test in the repo reaches them. */
export const fixture = (rel: string): string =>
  fileURLToPath(new URL(`../../../../fixtures/${rel}`, import.meta.url));

/** The packages that go to npm, by folder under packages/. Everything else in the workspace is private. */
export const PUBLISHABLE = [
  { dir: 'core', name: '@mor/core', browserEntry: true },
  { dir: 'format', name: '@mor/format', browserEntry: true },
  { dir: 'onnx', name: '@mor/onnx', browserEntry: true },
  { dir: 'engine', name: '@mor/engine', browserEntry: true },
  { dir: 'transformers', name: '@mor/transformers', browserEntry: true },
  { dir: 'trainer', name: '@mor/trainer', browserEntry: true },
  { dir: 'cli', name: '@mor/cli', browserEntry: false },
] as const;

export type Publishable = (typeof PUBLISHABLE)[number];

/** The version of `name` the root lockfile installs at the top of node_modules. */
export function lockedVersion(name: string): string {
  const lock = JSON.parse(readFileSync(`${REPO_ROOT}package-lock.json`, 'utf8')) as {
    packages: Record<string, { version?: string }>;
  };
  const version = lock.packages[`node_modules/${name}`]?.version;
  if (!version) throw new Error(`package-lock.json has no node_modules/${name}`);
  return version;
}
