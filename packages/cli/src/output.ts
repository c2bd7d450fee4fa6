/** Where a command writes: stdout for the result (one JSON document with --json), stderr for logs. */
export interface Output {
  /** Writes the human-readable result. */
  line(text: string): void;
  /** Writes the one JSON document of a `--json` run. */
  json(value: unknown): void;
  /** Logs and progress: always stderr, so `--json` output stays parseable. */
  log(text: string): void;
}

export const processOutput: Output = {
  line: (text) => process.stdout.write(`${text}\n`),
  json: (value) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
  log: (text) => process.stderr.write(`${text}\n`),
};

/** Formats 9312 as "9,312". */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** Formats a byte count as "1.2 MB". */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}
