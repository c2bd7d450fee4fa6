/**
 * Why a path from a repository listing cannot name a file inside the directory a pull writes to — a phrase
 * completing "the path …" (`is absolute`, `has a ".." segment`, …) — or null when it can. The Hub itself never
 * lists such paths; a listing that does is hostile or broken, so a pull refuses it whole rather than pick around
 * it. A safe path is relative, `/`-separated, and every segment is a plain name.
 */
export function unsafeRepoPath(path: string): string | null {
  if (path === '') return 'is empty';
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'holds a control character (NUL, newline, …)';
  if (path.includes('\\')) return 'holds a backslash (a folder separator on Windows)';
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return 'is absolute';
  for (const segment of path.split('/')) {
    if (segment === '') return 'has an empty segment (a doubled or trailing /)';
    if (segment === '.' || segment === '..') return `has a "${segment}" segment`;
  }
  return null;
}
