import { fileURLToPath } from 'node:url';

/** The repository root (this file is tooling/fuzz/{src,dist}/paths.*). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** A path under the repository root. */
export function repoPath(relative: string): string {
  return REPO_ROOT + relative;
}
