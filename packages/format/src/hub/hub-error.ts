import { HubApiError } from '@huggingface/hub';

/** What went wrong talking to the Hub, so that callers can react without parsing messages. */
export type HubErrorReason =
  /** No token where one is needed, a malformed one, or one the Hub refused (401/403). */
  | 'auth'
  /** The repository, the revision or a required file does not exist (or is hidden from this token). */
  | 'not-found'
  /** The Hub could not be reached at all. */
  | 'network'
  /** Any other refusal or failure reported by the Hub. */
  | 'hub';

/** Where a Hub error happened. */
export interface HubErrorContext {
  /** `OWNER/NAME`. */
  repo: string;
  reason: HubErrorReason;
  /** HTTP status, when the Hub answered. */
  statusCode?: number | undefined;
  /** The URL that failed (never holds the token: tokens travel in the Authorization header). */
  url?: string | undefined;
}

/**
 * A failed push or pull. The message is one line, names the repository, and never contains the access token
 * (see {@link redactToken}); the raw error is kept as `cause` only when it does not contain the token either.
 */
export class HubError extends Error {
  override name = 'HubError';
  readonly repo: string;
  readonly reason: HubErrorReason;
  readonly statusCode?: number;
  readonly url?: string;
  constructor(message: string, context: HubErrorContext, options?: { cause?: unknown }) {
    super(message, options);
    this.repo = context.repo;
    this.reason = context.reason;
    if (context.statusCode !== undefined) this.statusCode = context.statusCode;
    if (context.url !== undefined) this.url = context.url;
  }
}

/** Replaces every occurrence of `token` in `text` (servers and proxies may echo the Authorization header). */
export function redactToken(text: string, token: string | undefined): string {
  // Very short "tokens" would turn redaction into random damage to the message; real ones are ~37 chars.
  if (token === undefined || token.length < 4) return text;
  return text.split(token).join('***');
}

/** What {@link toHubError} needs to know about the failed call. */
export interface HubFailure {
  repo: string;
  /** The access token in use, to be redacted from every message. */
  accessToken?: string | undefined;
  /** `https://huggingface.co` or the test server, for network errors. */
  hubUrl: string;
  /** What we were doing, e.g. `pushing to` or `reading` — completes "… the Hub refused the token for REPO". */
  doing: string;
}

/**
 * Turns anything thrown by `@huggingface/hub` (or `fetch`) into a {@link HubError} with a one-line message from
 * which the token has been removed. `HubError`s pass through unchanged.
 */
export function toHubError(error: unknown, failure: HubFailure): HubError {
  if (error instanceof HubError) return error;
  const { repo, accessToken: token } = failure;
  const clean = (text: string) => redactToken(text, token).replace(/\s*\n\s*/g, ' ');
  const safeCause = containsToken(error, token) ? undefined : error;
  if (error instanceof HubApiError) {
    const status = error.statusCode;
    const detail = clean(apiDetail(error));
    const context = { repo, statusCode: status, url: clean(error.url) };
    if (status === 401 || status === 403) {
      const message =
        token === undefined
          ? `the Hub refused access to ${repo} while ${failure.doing} it: ${status} ${detail} (private or missing repository? pass a token)`
          : `the Hub refused the token for ${repo}: ${status} ${detail}`;
      return new HubError(message, { ...context, reason: 'auth' }, { cause: safeCause });
    }
    const reason = status === 404 ? 'not-found' : 'hub';
    return new HubError(
      `the Hub failed while ${failure.doing} ${repo}: ${status} ${detail}`,
      { ...context, reason },
      { cause: safeCause },
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  if (/must start with 'hf_'/.test(message)) {
    return new HubError(`the token given for ${repo} is not a Hub access token (they start with "hf_")`, {
      repo,
      reason: 'auth',
    });
  }
  if (error instanceof TypeError && /fetch failed/.test(message)) {
    const why = error.cause instanceof Error ? `: ${clean(error.cause.message)}` : '';
    return new HubError(
      `cannot reach the Hub at ${failure.hubUrl}${why}`,
      { repo, reason: 'network' },
      { cause: safeCause },
    );
  }
  if (error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError) {
    // A runtime fault inside the Hub client while it read the answer: the answer was malformed (a listing that
    // is not a list, an error body nested thousands deep). The fault itself stays on `cause`.
    const what = error instanceof SyntaxError ? 'is not valid JSON' : 'is malformed';
    return new HubError(
      `the Hub's answer ${what} (while ${failure.doing} ${repo}); is ${failure.hubUrl} a Hugging Face Hub?`,
      { repo, reason: 'hub' },
      { cause: safeCause },
    );
  }
  // A body stream the Hub client aborted carries only a message, as a string: a refusal's (it ends in the
  // client's ". URL: …" trailer), or that of a fault while it read the refusal's body.
  if (typeof error === 'string' && !TRAILER.test(error)) {
    return new HubError(
      `the Hub's answer is malformed (while ${failure.doing} ${repo}); is ${failure.hubUrl} a Hugging Face Hub?`,
      { repo, reason: 'hub' },
    );
  }
  return new HubError(
    `${failure.doing} ${repo} failed: ${clean(typeof error === 'string' ? apiDetail({ message }) : message)}`,
    { repo, reason: 'hub' },
    { cause: safeCause },
  );
}

/**
 * The Hub's reason from a refusal. `createApiError` builds the message from the JSON body's `error` / `message`
 * as they are; when those are not strings (a hostile or broken server) it reads `[object Object]`, so the
 * strings of the body are used instead, or none.
 */
function apiDetail(error: { message: string; data?: unknown }): string {
  const detail = stripTrailer(error.message);
  if (!detail.includes('[object Object]')) return detail;
  const data = error.data as Record<string, unknown> | undefined;
  const text = [data?.['error'], data?.['error_description']].filter((v) => typeof v === 'string');
  return text.join(': ') || 'no details';
}

/** `createApiError` appends ". URL: …. Request ID: …"; the URL is kept on the error, the message stays short. */
function stripTrailer(message: string): string {
  return message.replace(TRAILER, '').trim() || 'no details';
}

/** The trailer; the URL is empty when the answer came from a `fetch` that sets none (a proxy, a test). */
const TRAILER = /\.?\s*URL: \S*(\. Request ID: \S+)?$/;

function containsToken(error: unknown, token: string | undefined): boolean {
  if (token === undefined || token === '') return false;
  try {
    const seen =
      error instanceof Error
        ? `${error.message} ${JSON.stringify((error as { data?: unknown }).data ?? null)}`
        : String(error);
    return seen.includes(token) || (error instanceof Error && containsToken(error.cause, token));
  } catch {
    return true; // cannot inspect it: do not risk carrying it along
  }
}
