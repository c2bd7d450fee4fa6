import { createHash } from 'node:crypto';
import { AdapterFormatError, HubError, SafetensorsError, fetchAdapterFiles } from '@mor/format';
import fc from 'fast-check';
import { anyJson, editedJson, hostileValue, writeJson } from '../json-gen.js';
import { applyMutations, mutationPlan, type Seed } from '../mutate.js';
import { ADAPTER_DIRS, fixtureBytes, fromUtf8, utf8 } from '../seeds.js';
import { defineTarget } from '../target.js';

const HUB = 'https://hub.fuzz.invalid';
const REPO = 'fuzz-user/fuzz-adapter';
const FILES = ['adapter_config.json', 'adapter_model.safetensors'] as const;

/** One HTTP answer of the fake Hub. */
interface Answer {
  status: number;
  contentType: string;
  body: string;
  /** Extra headers: a lying Content-Range size, a missing ETag, a Link to a next page, a xet file info… */
  headers: Record<string, string>;
}

/** What the fake Hub answers: the tree listing, the repository probe, and each file's probe and body. */
interface HubScenario {
  listing: Answer;
  /** Serve the listing again and again through `Link: rel="next"` (a listing that never ends). */
  endlessListing: boolean;
  repoProbe: number;
  files: Record<string, { probe: Answer; body: Answer; bytes: Uint8Array | null }>;
}

interface HubSeeds {
  listingSeeds: Seed[];
  listingObjects: unknown[];
  /** Per fixture adapter: the two files' bytes. */
  adapters: Array<Record<string, Uint8Array>>;
}

const gitBlobId = (b: Uint8Array) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function listingOf(files: Record<string, Uint8Array>): unknown[] {
  const config = files['adapter_config.json']!;
  const weights = files['adapter_model.safetensors']!;
  return [
    { type: 'file', oid: gitBlobId(config), size: config.length, path: 'adapter_config.json' },
    {
      type: 'file',
      oid: 'a'.repeat(40),
      size: weights.length,
      path: 'adapter_model.safetensors',
      lfs: { oid: sha256(weights), size: weights.length, pointerSize: 134 },
    },
    { type: 'directory', oid: 'b'.repeat(40), size: 0, path: 'logs' },
  ];
}

const ok = (body: string, contentType = 'application/json'): Answer => ({
  status: 200,
  contentType,
  body,
  headers: {},
});

/** Statuses and bodies of refusals: JSON errors of every shape, HTML, empty. */
const errorAnswer: fc.Arbitrary<Answer> = fc.record({
  status: fc.constantFrom(400, 401, 403, 404, 409, 429, 500, 502, 503),
  contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/html', ''),
  body: fc.oneof(
    fc.constantFrom(
      '{"error":"Repository not found"}',
      '{"error":"Invalid credentials in Authorization header"}',
      '',
    ),
    hostileValue.map((v) => writeJson({ entries: [['error', v]] })),
    hostileValue.map((v) =>
      writeJson({
        entries: [
          ['message', v],
          ['error_description', v],
        ],
      }),
    ),
    anyJson,
  ),
  headers: fc.oneof(
    fc.constant({}),
    fc.constant({ 'X-Error-Code': 'EntryNotFound' }),
    fc.constant({ 'X-Request-Id': 'r' }),
  ),
});

const probeHeaders = fc.constantFrom<Record<string, string> | 'keep'>(
  'keep',
  'keep',
  'keep',
  {},
  { 'content-range': 'bytes 0-0/*', etag: '"e"' },
  { 'content-range': 'bytes 0-0/1099511627776', etag: '"e"' },
  { 'content-range': 'bytes 0-0/-5', etag: '"e"' },
  { 'content-range': 'bytes 0-0/12', etag: '"e"' },
  { 'content-type': 'application/vnd.xet-fileinfo+json', 'x-linked-size': '10', etag: '"e"' },
  {
    'content-type': 'application/vnd.xet-fileinfo+json',
    'x-linked-size': '40904',
    'x-xet-hash': 'deadbeef',
    link: `<${HUB}/xet/recon>; rel="xet-reconstruction-info", <${HUB}/xet/auth>; rel="xet-auth"`,
    etag: '"e"',
  },
);

/** The fake `fetch` of one scenario. Hand-written: it is the Hub's HTTP protocol as @huggingface/hub speaks it. */
function fakeFetch(s: HubScenario): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const headers = new Headers(init?.headers);
    const answer = (
      a: Answer,
      extra: Record<string, string> = {},
      body?: ConstructorParameters<typeof Response>[0],
    ) =>
      new Response(body ?? a.body, {
        status: a.status,
        headers: { ...(a.contentType && { 'content-type': a.contentType }), ...a.headers, ...extra },
      });
    if (url.pathname.startsWith(`/api/models/${REPO}/tree/`)) {
      return answer(s.listing, s.endlessListing ? { link: `<${url.href}>; rel="next"` } : {});
    }
    if (url.pathname === `/api/models/${REPO}`) return new Response('{}', { status: s.repoProbe });
    const prefix = `/${REPO}/resolve/main/`;
    if (url.pathname.startsWith(prefix)) {
      const file = s.files[decodeURIComponent(url.pathname.slice(prefix.length))];
      if (file === undefined)
        return new Response('', { status: 404, headers: { 'X-Error-Code': 'EntryNotFound' } });
      const bytes = file.bytes === null ? utf8.encode(file.body.body) : file.bytes;
      if (headers.has('Range')) {
        const probe = file.probe;
        return answer(
          probe,
          { 'content-range': `bytes 0-0/${bytes.length}`, etag: '"etag"', ...probe.headers },
          probe.status === 206 || probe.status === 200 ? bytes.slice(0, 1) : undefined,
        );
      }
      return answer(file.body, {}, file.body.status < 300 ? bytes : undefined);
    }
    return new Response('not here', { status: 404 });
  }) as typeof fetch;
}

export const hubTarget = defineTarget<HubScenario, HubSeeds>({
  name: 'hub',
  description:
    'fetchAdapterFiles (@mor/format) against a fake Hub: fuzzed listings, LFS entries, error bodies, files',
  allowed: [HubError, AdapterFormatError, SafetensorsError],
  async setup() {
    const adapters = ADAPTER_DIRS.map((d) =>
      Object.fromEntries(FILES.map((f) => [f, fixtureBytes(`${d}/${f}`)])),
    );
    const listingObjects = adapters.map(listingOf);
    const listingSeeds = listingObjects.map((o, i) => {
      const bytes = utf8.encode(JSON.stringify(o));
      return { name: `listing-${i}`, bytes, hotLength: bytes.length };
    });
    return { listingSeeds, listingObjects, adapters };
  },
  inputs: (s) => {
    const listingBody = fc.oneof(
      {
        weight: 2,
        arbitrary: fc.nat(s.listingObjects.length - 1).map((i) => JSON.stringify(s.listingObjects[i])),
      },
      { weight: 3, arbitrary: editedJson(s.listingObjects) },
      { weight: 2, arbitrary: mutationPlan.map((p) => fromUtf8(applyMutations(p, s.listingSeeds))) },
      { weight: 1, arbitrary: anyJson },
    );
    const valid = (i: number): HubScenario => ({
      listing: ok(JSON.stringify(s.listingObjects[i])),
      endlessListing: false,
      repoProbe: 200,
      files: Object.fromEntries(
        FILES.map((f) => [
          f,
          {
            probe: { ...ok('', ''), status: 206 },
            body: ok('', 'application/octet-stream'),
            bytes: s.adapters[i]![f]!,
          },
        ]),
      ),
    });
    /** One fault per scenario, the rest of the conversation valid, so each fault reaches the code it targets. */
    const fault = fc.oneof(
      { weight: 8, arbitrary: fc.constant((_: HubScenario) => {}) },
      { weight: 48, arbitrary: listingBody.map((b) => (x: HubScenario) => void (x.listing = ok(b))) },
      {
        weight: 8,
        arbitrary: listingBody.map((b) => (x: HubScenario) => void (x.listing = ok(b, 'text/plain'))),
      },
      {
        weight: 16,
        arbitrary: fc
          .record({ e: errorAnswer, probe: fc.constantFrom(200, 404, 401, 500) })
          .map(({ e, probe }) => (x: HubScenario) => {
            x.listing = e;
            x.repoProbe = probe;
          }),
      },
      { weight: 1, arbitrary: fc.constant((x: HubScenario) => void (x.endlessListing = true)) },
      {
        weight: 16,
        arbitrary: fc
          .record({ f: fc.constantFrom(...FILES), e: errorAnswer, h: probeHeaders })
          .map(({ f, e, h }) => (x: HubScenario) => {
            const file = x.files[f]!;
            if (h === 'keep') file.probe = e;
            else file.probe = { ...file.probe, headers: h };
          }),
      },
      {
        weight: 16,
        arbitrary: fc
          .record({ f: fc.constantFrom(...FILES), e: errorAnswer })
          .map(({ f, e }) => (x: HubScenario) => {
            x.files[f]!.body = e;
            x.files[f]!.bytes = null;
          }),
      },
      {
        weight: 24,
        arbitrary: fc
          .record({ f: fc.constantFrom(...FILES), plan: mutationPlan })
          .map(({ f, plan }) => (x: HubScenario) => {
            if (x.files[f]!.bytes === null) return;
            const bytes = x.files[f]!.bytes!;
            x.files[f]!.bytes = applyMutations(plan, [{ name: f, bytes, hotLength: 1024 }]);
          }),
      },
      {
        // A hostile Hub that lists the hash of what it serves: the mutated file reaches parseAdapter.
        weight: 24,
        arbitrary: fc
          .record({ f: fc.constantFrom(...FILES), plan: mutationPlan })
          .map(({ f, plan }) => (x: HubScenario) => {
            if (FILES.some((g) => x.files[g]!.bytes === null)) return;
            const files: Record<string, Uint8Array> = Object.fromEntries(
              FILES.map((g) => [g, x.files[g]!.bytes!]),
            );
            files[f] = applyMutations(plan, [{ name: f, bytes: files[f]!, hotLength: 1024 }]);
            x.files[f]!.bytes = files[f]!;
            x.listing = ok(JSON.stringify(listingOf(files)));
          }),
      },
    );
    return fc
      .record({ i: fc.nat(s.adapters.length - 1), faults: fc.array(fault, { minLength: 1, maxLength: 2 }) })
      .map(({ i, faults }) => {
        const scenario = valid(i);
        for (const f of faults) f(scenario);
        return scenario;
      });
  },
  run: (scenario) => fetchAdapterFiles({ repo: REPO, hubUrl: HUB, fetch: fakeFetch(scenario) }),
  // Replay files are JSON, file bytes in base64.
  encode: (scenario) =>
    utf8.encode(
      JSON.stringify(scenario, (_, v: unknown) =>
        v instanceof Uint8Array ? { base64: Buffer.from(v).toString('base64') } : v,
      ),
    ),
  decode: (bytes) =>
    JSON.parse(fromUtf8(bytes), (_, v: unknown) =>
      typeof v === 'object' && v !== null && 'base64' in v
        ? new Uint8Array(Buffer.from((v as { base64: string }).base64, 'base64'))
        : v,
    ) as HubScenario,
  size: (scenario) =>
    scenario.listing.body.length +
    Object.values(scenario.files).reduce((n, f) => n + (f.bytes?.length ?? 0), 0),
});
