// Runs the mor_torch tests (python/mor-torch) with Debian's /usr/bin/python3 — the interpreter whose python3-torch
// and python3-pytest .ci/run installs; another python3 may come first on PATH. Where torch or pytest is missing the
// run is skipped with one line saying why (exit 0), except under CI, where a missing dependency fails the build.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const PYTHON = '/usr/bin/python3';
const PACKAGE_DIR = fileURLToPath(new URL('../python/mor-torch/', import.meta.url));

const missing = ['torch', 'pytest'].filter(
  (module) => spawnSync(PYTHON, ['-c', `import ${module}`], { stdio: 'ignore' }).status !== 0,
);
if (missing.length > 0) {
  const why = `${PYTHON} cannot import ${missing.join(' and ')} (apt-get install python3-torch python3-pytest)`;
  if (process.env.CI) {
    console.error(`error: python tests cannot run: ${why}`);
    process.exit(1);
  }
  console.log(`python tests skipped: ${why}`);
  process.exit(0);
}

const run = spawnSync(PYTHON, ['-m', 'pytest', '-q'], { cwd: PACKAGE_DIR, stdio: 'inherit' });
if (run.error) console.error(`error: ${PYTHON} -m pytest could not start: ${run.error.message}`);
process.exit(run.status ?? 1);
