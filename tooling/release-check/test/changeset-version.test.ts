// A release dry run: `changeset version` on a copy of the repository (its tracked and non-ignored files), with
// one extra patch changeset for @mor/core alone. The fixed group (`@mor/*`) must move every package to one new
// version, rewrite the internal dependency ranges to it (so the packed tarballs resolve each other) and write the
// changelogs; the repository itself must stay as it was.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { exec } from './helpers/exec.js';
import type { PackageJson } from './helpers/pack.js';
import { PUBLISHABLE, REPO_ROOT } from './helpers/repo.js';

const WORKSPACE_DIRS = ['packages', 'tooling', 'apps'];

/** Every workspace folder (relative to `root`) that has a package.json. */
function workspaces(root: string): string[] {
  return WORKSPACE_DIRS.flatMap((top) =>
    existsSync(join(root, top))
      ? readdirSync(join(root, top))
          .map((d) => `${top}/${d}`)
          .filter((d) => existsSync(join(root, d, 'package.json')))
      : [],
  );
}

const readPkg = (root: string, dir: string): PackageJson =>
  JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as PackageJson;

/** What `changeset version` could touch in `root`: package.json files, changelogs, pending changesets. */
function releaseState(root: string): Record<string, string> {
  const state: Record<string, string> = {};
  const hash = (file: string) =>
    existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex') : 'absent';
  for (const dir of ['.', ...workspaces(root)]) {
    state[`${dir}/package.json`] = hash(join(root, dir, 'package.json'));
    state[`${dir}/CHANGELOG.md`] = hash(join(root, dir, 'CHANGELOG.md'));
  }
  for (const f of readdirSync(join(root, '.changeset')))
    state[`.changeset/${f}`] = hash(join(root, '.changeset', f));
  return state;
}

/** `a > b` for plain `x.y.z` versions. */
function newer(a: string, b: string): boolean {
  const [x, y] = [a, b].map((v) => v.split('.').map(Number));
  for (let i = 0; i < 3; i++) if (x![i] !== y![i]) return x![i]! > y![i]!;
  return false;
}

let scratch: string | undefined;
afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

it('versions every @mor/* package together on a copy and leaves the repository untouched', async () => {
  const before = releaseState(REPO_ROOT);
  scratch = await mkdtemp(join(tmpdir(), 'mor-changeset-'));
  const copy = scratch;

  const listed = await exec('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: REPO_ROOT,
  });
  const files = listed.stdout.split('\0').filter((f) => f && existsSync(join(REPO_ROOT, f)));
  const started = performance.now();
  await Promise.all(files.map((f) => cp(join(REPO_ROOT, f), join(copy, f))));
  const copyMs = Math.round(performance.now() - started);

  await writeFile(
    join(copy, '.changeset', 'release-check-patch.md'),
    "---\n'@mor/core': patch\n---\n\nRelease check: a patch to one package moves the whole fixed group.\n",
  );
  const oldVersion = readPkg(copy, 'packages/core').version;
  const bin = join(dirname(createRequire(import.meta.url).resolve('@changesets/cli/package.json')), 'bin.js');
  const { ms } = await exec(process.execPath, [bin, 'version'], { cwd: copy });
  console.log(`changeset dry run (ms): copy ${files.length} files ${copyMs}, changeset version ${ms}`);

  const morPackages = workspaces(copy)
    .map((dir) => ({ dir, pkg: readPkg(copy, dir) }))
    .filter(({ pkg }) => pkg.name.startsWith('@mor/'));
  const newVersion = readPkg(copy, 'packages/core').version;
  expect(newer(newVersion, oldVersion), `${oldVersion} → ${newVersion}`).toBe(true);
  for (const { dir, pkg } of morPackages) {
    expect(pkg.version, dir).toBe(newVersion);
    for (const deps of [pkg.dependencies, pkg.peerDependencies, pkg.devDependencies]) {
      for (const [dep, range] of Object.entries(deps ?? {})) {
        if (dep.startsWith('@mor/') && range !== '*') expect(range, `${dir} → ${dep}`).toBe(newVersion);
      }
    }
  }
  for (const p of PUBLISHABLE) {
    const changelog = await readFile(join(copy, 'packages', p.dir, 'CHANGELOG.md'), 'utf8');
    expect(changelog).toContain(`# ${p.name}`);
    expect(changelog).toContain(`## ${newVersion}`);
  }
  // Pending changesets are consumed.
  expect(readdirSync(join(copy, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md')).toEqual(
    [],
  );

  expect(releaseState(REPO_ROOT)).toEqual(before);
});
