// Resident memory of a process and all its descendants, from /proc (Linux): the browser's own numbers
// (performance.measureUserAgentSpecificMemory) do not count the wasm runtime's native allocations or the GPU process.
import { readdirSync, readFileSync } from 'node:fs';

function children() {
  const byParent = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!byParent.has(ppid)) byParent.set(ppid, []);
      byParent.get(ppid).push(Number(name));
    } catch {
      // the process ended between readdir and read
    }
  }
  return byParent;
}

function rssOf(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * `{ total, largest }` resident bytes of `pid` and its descendants (shared pages counted in each process);
 * `withoutRoot` leaves `pid` itself out.
 */
export function processTreeRss(pid, { withoutRoot = false } = {}) {
  const byParent = children();
  let total = 0;
  let largest = 0;
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop();
    const rss = p === pid && withoutRoot ? 0 : rssOf(p);
    total += rss;
    largest = Math.max(largest, rss);
    stack.push(...(byParent.get(p) ?? []));
  }
  return { total, largest };
}
