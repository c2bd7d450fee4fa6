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
    const detail = clean(stripTrailer(error.message));
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
  return new HubError(
    `${failure.doing} ${repo} failed: ${clean(message)}`,
    { repo, reason: 'hub' },
    { cause: safeCause },
  );
}

/** `createApiError` appends ". URL: …. Request ID: …"; the URL is kept on the error, the message stays short. */
function stripTrailer(message: string): string {
  return message.replace(/\.?\s*URL: \S+(\. Request ID: \S+)?$/, '').trim() || 'no details';
}

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
