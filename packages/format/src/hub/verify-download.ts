import type { ListFileEntry } from '@huggingface/hub';
import { HubError } from './hub-error.js';

/**
 * Checks downloaded bytes against what the repository's tree lists for the file: the size, and the hash where
 * one is listed (sha256 of the content for LFS files, git's blob sha1 for the others). A truncated or altered
 * download thus fails here, before anything is written, instead of as an obscure parse error later (or not at
 * all, for a flipped bit inside a tensor).
 *
 * @throws {HubError} reason `hub`, naming the file, for a size or hash mismatch.
 */
export async function checkDownload(
  bytes: Uint8Array,
  entry: ListFileEntry,
  repo: string,
  revision: string,
): Promise<void> {
  const fail = (what: string): never => {
    throw new HubError(
      `${repo}@${revision}: ${entry.path}: the download does not match the repository (${what}); try again`,
      { repo, reason: 'hub' },
    );
  };
  const size = entry.lfs?.size ?? entry.size;
  if (bytes.length !== size) fail(`${bytes.length} bytes received, ${size} expected`);
  const subtle = globalThis.crypto?.subtle;
  if (subtle === undefined) return; // no WebCrypto (plain-HTTP page): the size check is all we can do
  if (entry.lfs !== undefined) {
    const sha256 = hex(await subtle.digest('SHA-256', bytes.slice()));
    if (sha256 !== entry.lfs.oid) fail(`sha256 ${sha256}, listed ${entry.lfs.oid}`);
  } else if (entry.oid !== undefined && /^[0-9a-f]{40}$/.test(entry.oid)) {
    const sha1 = hex(await subtle.digest('SHA-1', gitBlob(bytes)));
    if (sha1 !== entry.oid) fail(`git blob id ${sha1}, listed ${entry.oid}`);
  }
}

/** Git hashes a file as `blob <size>\0<content>`. */
function gitBlob(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const head = new TextEncoder().encode(`blob ${bytes.length}\0`);
  const out = new Uint8Array(head.length + bytes.length);
  out.set(head);
  out.set(bytes, head.length);
  return out;
}

function hex(buffer: ArrayBuffer): string {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('');
}
