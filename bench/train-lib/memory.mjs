// Process memory from /proc/self/status (Linux): VmHWM is the peak resident set since the process started.
import { readFileSync } from 'node:fs';

/** `{ rssMB, peakMB }` of this process, or nulls where /proc is not there. */
export function processMemory() {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kb = (key) => Number(status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'))?.[1] ?? NaN);
    return { rssMB: kb('VmRSS') / 1024, peakMB: kb('VmHWM') / 1024 };
  } catch {
    return { rssMB: null, peakMB: null };
  }
}
