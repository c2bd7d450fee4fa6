// A stand-in for the Hugging Face Hub on 127.0.0.1: the endpoints @huggingface/hub 2.x calls for createRepo,
// uploadFiles (preupload → LFS batch "basic" → PUT → NDJSON commit), listFiles, repoExists, downloadFile and
// whoAmI, answered as the Hub answers them (status codes, X-Error-Code, JSON errors). Files live in memory.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StoredFile {
  bytes: Uint8Array;
  /** sha256 of the content when the file went through LFS. */
  lfsOid?: string;
}

interface Repo {
  private: boolean;
  /** Branch → commit oid; commit oid → snapshot. */
  branches: Map<string, string>;
  commits: Map<string, Map<string, StoredFile>>;
}

/** Every request the client made, for assertions on what the library actually called. */
export interface LoggedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
}

const sha = (algo: string, data: Uint8Array | string) => createHash(algo).update(data).digest('hex');
export const gitBlobId = (b: Uint8Array) =>
  sha('sha1', Buffer.concat([Buffer.from(`blob ${b.length}\0`), b]));

export class FakeHub {
  readonly repos = new Map<string, Repo>();
  readonly requests: LoggedRequest[] = [];
  /** Requests no route answered: a test fails when the library calls something this fake does not know. */
  readonly unhandled: string[] = [];
  private readonly lfs = new Map<string, Uint8Array>();
  private server: Server | undefined;
  url = '';

  /** @param tokens the access tokens the Hub accepts. */
  constructor(private readonly tokens: readonly string[]) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: Error) => json(res, 500, { error: `fake hub: ${error.message}` }));
    });
    await new Promise<void>((done) => this.server!.listen(0, '127.0.0.1', done));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((done) => this.server?.close(done));
  }

  /** Writes files straight into a branch as a new commit (to plant corrupt content a client must refuse). */
  plant(
    repo: string,
    files: Record<string, Uint8Array>,
    options: { lfs?: boolean; private?: boolean } = {},
  ): void {
    const r = this.repo(repo) ?? this.create(repo, options.private ?? false);
    const entries = Object.entries(files).map(([path, bytes]): [string, StoredFile] => [
      path,
      options.lfs ? { bytes, lfsOid: sha('sha256', bytes) } : { bytes },
    ]);
    this.commit(r, 'main', entries, []);
  }

  /** The files of a branch. */
  files(repo: string, branch = 'main'): Map<string, StoredFile> {
    const r = this.repo(repo);
    if (!r) throw new Error(`fake hub: no repo ${repo}`);
    return r.commits.get(r.branches.get(branch)!)!;
  }

  private repo(name: string): Repo | undefined {
    return this.repos.get(name);
  }

  private create(name: string, isPrivate: boolean): Repo {
    const repo: Repo = { private: isPrivate, branches: new Map(), commits: new Map() };
    this.repos.set(name, repo);
    // The Hub starts every repository with a commit holding .gitattributes.
    this.commit(
      repo,
      'main',
      [['.gitattributes', { bytes: Buffer.from('*.safetensors filter=lfs diff=lfs merge=lfs -text\n') }]],
      [],
    );
    return repo;
  }

  private commit(repo: Repo, branch: string, add: Array<[string, StoredFile]>, remove: string[]): string {
    const parent = repo.branches.get(branch);
    const snapshot = new Map(parent === undefined ? [] : repo.commits.get(parent)!);
    for (const [path, file] of add) snapshot.set(path, file);
    for (const path of remove) snapshot.delete(path);
    const oid = sha('sha1', randomBytes(16));
    repo.commits.set(oid, snapshot);
    repo.branches.set(branch, oid);
    return oid;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url!, this.url);
    const path = decodeURIComponent(url.pathname);
    this.requests.push({ method: req.method!, path, authorization: req.headers.authorization });
    const body = await readBody(req);
    // Uploads to "storage" are pre-signed URLs: no Authorization header, as with S3.
    const put = /^\/__lfs\/([0-9a-f]{64})$/.exec(path);
    if (req.method === 'PUT' && put) {
      if (sha('sha256', body) !== put[1]) return json(res, 400, { error: 'sha256 mismatch' });
      this.lfs.set(put[1]!, body);
      res.writeHead(200, { ETag: `"${put[1]}"` }).end();
      return;
    }
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
    if (token !== undefined && !this.tokens.includes(token)) {
      // Deliberately hostile: echo the token, so tests prove that clients redact it from their messages.
      return json(res, 401, { error: `Invalid credentials in Authorization header (Bearer ${token})` });
    }
    const authed = token !== undefined;
    if (req.method === 'POST' && path === '/api/repos/create') return this.createRepo(res, body, authed);
    if (req.method === 'GET' && path === '/api/whoami-v2') {
      return authed
        ? json(res, 200, { type: 'user', name: 'tester', auth: {} })
        : json(res, 401, { error: 'Unauthorized' });
    }
    const api = /^\/api\/models\/([^/]+\/[^/]+)(?:\/(preupload|commit|tree)\/([^/]+)(\/.*)?)?$/.exec(path);
    const lfsBatch = /^\/([^/]+\/[^/]+)\.git\/info\/lfs\/objects\/batch$/.exec(path);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    const name = api?.[1] ?? lfsBatch?.[1] ?? resolve?.[1];
    const repo = name === undefined ? undefined : this.repo(name);
    if (name !== undefined && (repo === undefined || (repo.private && !authed))) {
      // Like the Hub: anonymous callers cannot tell a private repository from a missing one.
      return json(
        res,
        authed ? 404 : 401,
        { error: 'Repository not found' },
        { 'X-Error-Code': 'RepoNotFound' },
      );
    }
    if (api && req.method === 'GET' && api[2] === undefined)
      return json(res, 200, { id: name, private: repo!.private, sha: repo!.branches.get('main') });
    if (api && req.method === 'GET' && api[2] === 'tree') return this.tree(res, repo!, api[3]!);
    if (api && req.method === 'POST' && api[2] === 'preupload') {
      if (!authed) return json(res, 401, { error: 'Unauthorized' });
      const { files } = JSON.parse(body.toString()) as { files: Array<{ path: string }> };
      return json(res, 200, {
        files: files.map((f) => ({
          path: f.path,
          uploadMode: f.path.endsWith('.safetensors') ? 'lfs' : 'regular',
        })),
      });
    }
    if (lfsBatch && req.method === 'POST') return this.lfsBatch(res, body, authed);
    if (api && req.method === 'POST' && api[2] === 'commit')
      return this.commitEndpoint(res, repo!, api[3]!, body, authed);
    if (resolve && req.method === 'GET') return this.resolve(req, res, repo!, resolve[2]!, resolve[3]!);
    this.unhandled.push(`${req.method} ${url.pathname}${url.search}`);
    json(res, 404, { error: `fake hub: no route for ${req.method} ${path}` });
  }

  private createRepo(res: ServerResponse, body: Buffer, authed: boolean): void {
    if (!authed) return json(res, 401, { error: 'You must be authenticated to create a repo' });
    const payload = JSON.parse(body.toString()) as {
      name: string;
      organization?: string;
      type?: string;
      visibility?: string;
    };
    if (payload.type !== 'model')
      return json(res, 400, { error: `fake hub: only model repos, got ${payload.type}` });
    const name = `${payload.organization}/${payload.name}`;
    if (this.repos.has(name))
      return json(res, 409, { error: 'You already created this model repo', url: `${this.url}/${name}` });
    this.create(name, payload.visibility === 'private');
    json(res, 200, { url: `${this.url}/${name}`, name, id: `id-${name}` });
  }

  private lfsBatch(res: ServerResponse, body: Buffer, authed: boolean): void {
    if (!authed) return json(res, 401, { message: 'Unauthorized' });
    const request = JSON.parse(body.toString()) as {
      operation: string;
      transfers?: string[];
      objects: Array<{ oid: string; size: number }>;
    };
    if (request.operation !== 'upload' || !request.transfers?.includes('basic'))
      return json(res, 400, { error: 'fake hub: basic uploads only' });
    const objects = request.objects.map(({ oid, size }) =>
      this.lfs.has(oid)
        ? { oid, size }
        : { oid, size, actions: { upload: { href: `${this.url}/__lfs/${oid}` } } },
    );
    json(res, 200, { transfer: 'basic', objects }, { 'Content-Type': 'application/vnd.git-lfs+json' });
  }

  private commitEndpoint(
    res: ServerResponse,
    repo: Repo,
    branch: string,
    body: Buffer,
    authed: boolean,
  ): void {
    if (!authed) return json(res, 401, { error: 'Unauthorized' });
    if (!repo.branches.has(branch))
      return json(res, 404, { error: `Invalid rev id: ${branch}` }, { 'X-Error-Code': 'RevisionNotFound' });
    const lines = body
      .toString()
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { key: string; value: Record<string, unknown> });
    if (lines[0]?.key !== 'header')
      return json(res, 400, { error: 'fake hub: the first NDJSON line must be the header' });
    const add: Array<[string, StoredFile]> = [];
    const remove: string[] = [];
    for (const { key, value } of lines.slice(1)) {
      const path = value['path'] as string;
      if (key === 'file') {
        if (value['encoding'] !== 'base64')
          return json(res, 400, { error: `fake hub: unknown encoding for ${path}` });
        add.push([path, { bytes: Buffer.from(value['content'] as string, 'base64') }]);
      } else if (key === 'lfsFile') {
        const bytes = this.lfs.get(value['oid'] as string);
        if (!bytes || bytes.length !== value['size'])
          return json(res, 422, { error: `LFS object of ${path} was not uploaded` });
        add.push([path, { bytes, lfsOid: value['oid'] as string }]);
      } else if (key === 'deletedFile') remove.push(path);
      else return json(res, 400, { error: `fake hub: unknown NDJSON key ${key}` });
    }
    const oid = this.commit(repo, branch, add, remove);
    json(res, 200, { success: true, commitOid: oid, commitUrl: `${this.url}/commit/${oid}`, hookOutput: '' });
  }

  private snapshot(repo: Repo, rev: string): Map<string, StoredFile> | undefined {
    return repo.commits.get(repo.branches.get(rev) ?? rev);
  }

  private tree(res: ServerResponse, repo: Repo, rev: string): void {
    const files = this.snapshot(repo, rev);
    if (!files)
      return json(res, 404, { error: `Invalid rev id: ${rev}` }, { 'X-Error-Code': 'RevisionNotFound' });
    const entries = [...files].map(([path, f]) => ({
      type: 'file',
      path,
      oid: gitBlobId(
        f.lfsOid
          ? Buffer.from(
              `version https://git-lfs.github.com/spec/v1\noid sha256:${f.lfsOid}\nsize ${f.bytes.length}\n`,
            )
          : f.bytes,
      ),
      size: f.bytes.length,
      ...(f.lfsOid && { lfs: { oid: f.lfsOid, size: f.bytes.length, pointerSize: 134 } }),
    }));
    json(res, 200, entries);
  }

  private resolve(req: IncomingMessage, res: ServerResponse, repo: Repo, rev: string, path: string): void {
    const files = this.snapshot(repo, rev);
    if (!files)
      return json(res, 404, { error: `Invalid rev id: ${rev}` }, { 'X-Error-Code': 'RevisionNotFound' });
    const file = files.get(path);
    if (!file) return json(res, 404, { error: 'Entry not found' }, { 'X-Error-Code': 'EntryNotFound' });
    const etag = `"${file.lfsOid ?? gitBlobId(file.bytes)}"`;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      const start = Number(range[1]);
      const end = Math.min(range[2] ? Number(range[2]) : file.bytes.length - 1, file.bytes.length - 1);
      res.writeHead(206, {
        'Content-Range': `bytes ${start}-${end}/${file.bytes.length}`,
        ETag: etag,
        'Content-Type': 'application/octet-stream',
      });
      res.end(file.bytes.subarray(start, end + 1));
      return;
    }
    res
      .writeHead(200, {
        'Content-Length': file.bytes.length,
        ETag: etag,
        'Content-Type': 'application/octet-stream',
      })
      .end(file.bytes);
  }
}

function json(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(JSON.stringify(value));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
