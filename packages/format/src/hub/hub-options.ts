import { HUB_URL } from '@huggingface/hub';
import { HubError } from './hub-error.js';

/** How to reach the Hub; shared by push and pull. */
export interface HubConnectionOptions {
  /** Base URL of the Hub. @default "https://huggingface.co" */
  hubUrl?: string | undefined;
  /** A Hugging Face access token (`hf_…`). Never printed: error messages are redacted. */
  accessToken?: string | undefined;
  /** A `fetch` to use instead of the global one (proxies, tests). */
  fetch?: typeof fetch | undefined;
}

/** The options after defaults, as every Hub call takes them. */
export interface ResolvedConnection {
  hubUrl: string;
  accessToken: string | undefined;
  fetch: typeof fetch | undefined;
}

/** Model repository ids: `OWNER/NAME`, each part what the Hub allows (letters, digits, `-`, `_`, `.`). */
const REPO_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Checks a model repository id before any request, so that a typo fails here rather than as a confusing
 * 404 (or, with `models/…`, as a request for a different repository).
 *
 * @throws {HubError} reason `not-found` for an id that is not `OWNER/NAME`.
 */
export function checkRepoId(repo: string): string {
  if (!REPO_ID.test(repo) || repo.includes('..') || repo.endsWith('.git')) {
    throw new HubError(
      `'${repo}' is not a model repository id: expected OWNER/NAME (e.g. my-user/my-adapter)`,
      {
        repo,
        reason: 'not-found',
      },
    );
  }
  return repo;
}

/** Fills in the default Hub URL and drops a trailing slash (the client appends `/api/…`). */
export function resolveConnection(options: HubConnectionOptions): ResolvedConnection {
  const hubUrl = (options.hubUrl ?? HUB_URL).replace(/\/+$/, '');
  const token = options.accessToken === '' ? undefined : options.accessToken;
  return { hubUrl, accessToken: token, fetch: options.fetch };
}

/** The page of a repository on the Hub. */
export function repoUrl(hubUrl: string, repo: string): string {
  return `${hubUrl}/${repo}`;
}
