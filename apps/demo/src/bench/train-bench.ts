// The browser half of bench/browser-train.mjs: trains an adapter on a model served next to the page, on the
// backend the URL names, through the same TrainSession the demo's in-page training uses, and reports setup time,
// step times and the memory the page can see. The Node half launches headless Chromium, samples the browser's
// process memory, and prints the table. Query: ?model=<url of model.onnx>&backend=wasm|webgpu&method=mor|lora
// &steps=N&batch=B&seq=S&vocab=V&threads=T
import * as ort from 'onnxruntime-web/webgpu';
import { TrainSession, type TrainOrt } from '@mor/engine';
import { decodeModel } from '@mor/onnx';
import { initAdapterForModel } from '@mor/trainer';

interface BenchResult {
  ok: boolean;
  error?: string;
  backend: string;
  method: string;
  modelBytes: number;
  setupMs: number;
  stepMs: number[];
  tokensPerStep: number;
  /** `performance.measureUserAgentSpecificMemory()` after the last step (bytes), when the page may call it. */
  pageMemory: number | null;
  losses: number[];
}

const params = new URLSearchParams(location.search);
const int = (name: string, fallback: number) => Number(params.get(name) ?? fallback);
const log = (line: string) => {
  document.getElementById('log')!.textContent += `${line}\n`;
};

async function fetchBytes(url: string): Promise<Uint8Array | null> {
  const r = await fetch(url);
  if (r.status === 404) return null;
  if (!r.ok) throw new Error(`GET ${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

/** A seeded batch of token ids (the step's cost does not depend on which tokens). */
function batchOf(b: number, s: number, vocab: number, seed: number) {
  let x = seed * 2654435761 + 1;
  const ids = new BigInt64Array(b * s);
  for (let i = 0; i < ids.length; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    ids[i] = BigInt(1 + (x % (vocab - 1)));
  }
  return {
    inputIds: ids,
    attentionMask: new BigInt64Array(ids.length).fill(1n),
    labels: ids.slice(),
    batchSize: b,
    seqLength: s,
  };
}

async function pageMemory(): Promise<number | null> {
  const p = performance as Performance & {
    measureUserAgentSpecificMemory?: () => Promise<{ bytes: number }>;
  };
  if (!crossOriginIsolated || !p.measureUserAgentSpecificMemory) return null;
  return (await p.measureUserAgentSpecificMemory()).bytes;
}

async function run(): Promise<BenchResult> {
  const modelUrl = params.get('model');
  if (!modelUrl) throw new Error('no ?model= given');
  const backend = (params.get('backend') ?? 'wasm') as 'wasm' | 'webgpu';
  const method = (params.get('method') ?? 'mor') as 'mor' | 'lora';
  const [steps, b, s, vocab] = [int('steps', 3), int('batch', 2), int('seq', 128), int('vocab', 49152)];
  ort.env.wasm.wasmPaths = '/ort/';
  ort.env.wasm.numThreads = int('threads', 2);
  log(`fetching ${modelUrl}`);
  const bytes = (await fetchBytes(modelUrl))!;
  const data = await fetchBytes(`${modelUrl}_data`);
  const externalData = data ? (location: string) => (location.endsWith('_data') ? data : null)! : undefined;
  const started = performance.now();
  const graph = await decodeModel(bytes, externalData ? { externalData } : {});
  const targets = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
  const adapter = initAdapterForModel({ model: graph, targets, kind: method, rank: 8, experts: 8, seed: 0 });
  log(`opening the ${method} train session on ${backend}`);
  const session = await TrainSession.create({
    model: bytes,
    ...(externalData ? { externalData } : {}),
    task: 'causal-lm',
    method,
    adapter,
    optimizer: { kind: 'adamw', lr: 1e-4, weightDecay: 0 },
    device: backend,
    ort: ort as unknown as TrainOrt,
  });
  const setupMs = performance.now() - started;
  log(`session open in ${(setupMs / 1000).toFixed(1)} s`);
  const stepMs: number[] = [];
  const losses: number[] = [];
  try {
    for (let i = 0; i < steps; i++) {
      const t = performance.now();
      const r = await session.step(batchOf(b, s, vocab, i), { lr: 1e-4 });
      stepMs.push(performance.now() - t);
      losses.push(r.loss);
      log(`step ${i + 1}: ${stepMs.at(-1)!.toFixed(0)} ms, loss ${r.loss.toFixed(4)}`);
    }
  } finally {
    await session.dispose();
  }
  return {
    ok: true,
    backend,
    method,
    modelBytes: bytes.byteLength + (data?.byteLength ?? 0),
    setupMs,
    stepMs,
    tokensPerStep: b * s,
    pageMemory: await pageMemory(),
    losses,
  };
}

const w = window as Window & { benchResult?: BenchResult | { ok: false; error: string } };
run().then(
  (r) => {
    w.benchResult = r;
    log('done');
  },
  (e: unknown) => {
    const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    w.benchResult = { ok: false, error };
    log(`failed: ${error}`);
  },
);
