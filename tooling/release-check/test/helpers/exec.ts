import { execFile } from 'node:child_process';

/** What a finished child process left behind, and how long it took. */
export interface ExecResult {
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * The environment for a child `npm`/`node`: ours without the `npm_*` variables `npm run`/turbo put there
 * (`npm_config_local_prefix`, `npm_package_*`, …), which would make a nested npm act on the monorepo instead of
 * the scratch project. The cache, registry and user config stay, so the scratch install reuses `npm ci`'s cache.
 */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig']);
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^npm_/i.test(k) || keep.has(k.toLowerCase())) env[k] = v;
  }
  return { ...env, ...extra };
}

/**
 * Runs `file args` in `cwd`; rejects with the command, its exit status and its output when it fails (with
 * `allowFailure`, only when it could not run or was killed).
 */
export function exec(
  file: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; allowFailure?: boolean },
): Promise<ExecResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      {
        cwd: options.cwd,
        env: options.env ?? childEnv(),
        maxBuffer: 64 << 20,
        timeout: options.timeoutMs ?? 240_000,
      },
      (error, stdout, stderr) => {
        const ms = Math.round(performance.now() - started);
        if (error && !(options.allowFailure && typeof error.code === 'number')) {
          const status = error.killed ? `killed after ${ms} ms` : `exit ${String(error.code)}`;
          reject(
            new Error(
              `${file} ${args.join(' ')} (in ${options.cwd}) failed: ${status}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`,
            ),
          );
          return;
        }
        resolve({ stdout, stderr, ms });
      },
    );
  });
}
