import type { ListFileEntry } from '@huggingface/hub';
import { HubError, toHubError, type HubFailure } from './hub-error.js';

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
    throw mismatch(repo, revision, entry.path, what);
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

/**
 * Reads a download into memory and checks it ({@link checkDownload}), refusing it as soon as it runs past the
 * size the listing gives: a lying server cannot make a pull hold more than that. Memory grows with what arrives,
 * never with what the listing claims.
 *
 * @throws {HubError} reason `hub`, naming the file, for too many bytes or a size or hash mismatch; a failing
 *   body as {@link toHubError} maps it (token redacted).
 */
export async function readDownload(
  blob: Blob,
  entry: ListFileEntry,
  revision: string,
  failure: HubFailure,
): Promise<Uint8Array> {
  const { repo } = failure;
  const size = entry.lfs?.size ?? entry.size;
  const chunks: Uint8Array[] = [];
  let received = 0;
  const reader = blob.stream().getReader();
  // A body that fails mid-way (the server's error text may echo the token) becomes a HubError with it redacted.
  const read = () => reader.read().catch((error: unknown) => Promise.reject(toHubError(error, failure)));
  for (let r = await read(); !r.done; r = await read()) {
    received += r.value.length;
    if (received > size) {
      await reader.cancel();
      throw mismatch(repo, revision, entry.path, `more than the ${size} bytes listed`);
    }
    chunks.push(r.value);
  }
  const bytes = new Uint8Array(received);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  await checkDownload(bytes, entry, repo, revision);
  return bytes;
}

function mismatch(repo: string, revision: string, path: string, what: string): HubError {
  return new HubError(
    `${repo}@${revision}: ${path}: the download does not match the repository (${what}); try again`,
    { repo, reason: 'hub' },
  );
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
