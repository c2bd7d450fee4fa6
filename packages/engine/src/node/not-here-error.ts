import { HubError } from '@mor/format';
import { AdapterLoadError, MorInputError } from '../errors.js';

/** What a `--model` / `--adapter` value was meant to name. */
export type SourceKind = 'model' | 'adapter';

/** `owner/name` (optionally `@revision`): what a Hub repository id looks like, as opposed to a path. */
export const HUB_ID = /^([A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*)(?:@([\w./-]+))?$/;

/** The Hub every id is fetched from: `HF_ENDPOINT`, else huggingface.co (no trailing slash). */
export function hubEndpoint(): string {
  return (process.env['HF_ENDPOINT'] || 'https://huggingface.co').replace(/\/+$/, '');
}

/** Why the Hub did not give `id`, in one line, from whichever client failed (ours, or transformers.js'). */
function hubReason(id: string, error: unknown): string {
  if (error instanceof HubError) return error.message;
  const e = error as { name?: string; message?: string; cause?: { message?: string } };
  if (error instanceof TypeError && /fetch failed/.test(e.message ?? '')) {
    return `cannot reach the Hub at ${hubEndpoint()}${e.cause?.message ? `: ${e.cause.message}` : ''}`;
  }
  if (e.name === 'ModelFileNotFoundError') {
    return `the Hub at ${hubEndpoint()} has no repository ${id.split('@')[0]} (or it lacks config.json)`;
  }
  return (e.message ?? String(error)).split('\n')[0]!;
}

/** The one message for a value that names no local directory: what `what` is, and what the Hub said. */
function notHere(kind: SourceKind, value: string, detail: string, cause?: unknown): Error {
  return kind === 'adapter'
    ? new AdapterLoadError(value, `not a local directory, ${detail}`, { cause })
    : new MorInputError(`model "${value}" is not a local directory, ${detail}`, { cause });
}

/** `value` exists nowhere here and is not shaped like a Hub id either. */
export function notHereNorHubId(kind: SourceKind, value: string): Error {
  return notHere(kind, value, 'and not a Hub id (owner/name[@revision]) either');
}

/**
 * `value` is no local directory and the Hub did not give it: "model "x/y" is not a local directory, and pulling it
 * from the Hub failed: cannot reach the Hub at … / repository x/y not found on …". The one wording every command
 * taking `--model` / `--adapter` uses (training pulls, adapter pulls, transformers.js downloads).
 */
export function notHereNorOnHub(kind: SourceKind, value: string, error: unknown): Error {
  return notHere(kind, value, `and pulling it from the Hub failed: ${hubReason(value, error)}`, error);
}
