import './style.css';
import { ADAPTER_KIND_LABELS, type Adapter } from '@mor/format';
import { attachAdapter, detachAdapter, getAttachedAdapter, swapAdapter } from '@mor/transformers';
import { MULTITASK_EXAMPLES, type TrainExample } from './data/multitask.js';
import { fetchWordNetDemoData, type WordNetRow } from './data/wordnet-tasks.js';
import { GateRecorder } from './gates/gate-recorder.js';
import { setupHeldOutPanel, type AnswerFn } from './heldout/heldout-panel.js';
import { renderHeatmap } from './gates/heatmap.js';
import { fetchAdapter, parseAdapterSource } from './model/fetch-adapter.js';
import { generateGreedy } from './model/generate.js';
import { dtypeUnsupported, loadModel, parseDemoDtype, type LoadedModel } from './model/load-model.js';
import { chooseBackend, type BackendChoice } from './runtime/backend.js';
import './train/onnx-train-engine.js';
import { setupTrainPanel } from './train/train-panel.js';
import { byId, el, errorMessage } from './ui/dom.js';
import { renderOutput } from './ui/output-view.js';

const status = byId('status', HTMLParagraphElement);
const adapterToggle = byId('adapter-toggle', HTMLInputElement);
const generateButton = byId('generate-button', HTMLButtonElement);
const loadButton = byId('load-button', HTMLButtonElement);
const output = byId('output', HTMLDivElement);
const heatmap = byId('heatmap', HTMLDivElement);

let backend: BackendChoice | null = null;
let loaded: LoadedModel | null = null;
let adapter: Adapter | null = null;
/** The id `loaded` was loaded by. */
let loadedId = '';
/** The test model bundled with the page: random weights, so its text is noise. */
const RANDOM_MODEL = 'tiny-llama-kv';
const RANDOM_WEIGHTS_NOTE =
  'The bundled tiny-llama-kv has random weights: the text below is noise by design (its token ids match PyTorch).';
/** The WordNet-pretrained base: it trains on the WordNet tasks and answers held-out prompts. */
const WORDNET_MODEL = 'wordnet-llama';
/** Rows the train panel uses for the loaded model, and held-out prompts (WordNet model only). */
let examples: readonly TrainExample[] = MULTITASK_EXAMPLES;
let heldOutRows: readonly WordNetRow[] = [];
/** New tokens of a held-out answer. */
const ANSWER_TOKENS = 6;
let busy = false;
let training = false;
const recorder = new GateRecorder();

function setStatus(text: string, state: 'idle' | 'busy' | 'ready' | 'error'): void {
  status.textContent = text;
  status.dataset['state'] = state;
}

function updateControls(): void {
  const locked = busy || training;
  loadButton.disabled = locked;
  generateButton.disabled = locked || !loaded;
  adapterToggle.disabled = locked || !loaded || !adapter;
  const attached = loaded && getAttachedAdapter(loaded.model);
  byId('adapter-summary', HTMLSpanElement).textContent = adapter
    ? adapter.kind !== 'lora'
      ? `${ADAPTER_KIND_LABELS[adapter.kind]} r ${adapter.config.r} · ${adapter.config.experts} experts · ${adapter.layers.size} layers` +
        (attached ? ` · attached (${attached.gateOutputs.length} gate outputs)` : '')
      : `LoRA r ${adapter.r} · ${adapter.layers.size} layers`
    : 'no adapter';
  train.refresh();
}

async function run<T>(label: string, task: () => Promise<T>): Promise<T | undefined> {
  busy = true;
  updateControls();
  setStatus(label, 'busy');
  try {
    return await task();
  } catch (error) {
    console.error(error);
    setStatus(errorMessage(error), 'error');
    return undefined;
  } finally {
    busy = false;
    updateControls();
  }
}

/** Puts the current adapter on (router gates recorded for MoR) or takes it off, to match the toggle. */
async function applyToggle(): Promise<void> {
  if (!loaded) return;
  const model = loaded.model as unknown as Parameters<typeof attachAdapter>[0];
  if (adapterToggle.checked && adapter) {
    const options = adapter.kind !== 'lora' ? { onGates: recorder.onGates } : {};
    if (getAttachedAdapter(model)) await swapAdapter(model, adapter, options);
    else await attachAdapter(model, adapter, options);
  } else {
    await detachAdapter(model);
  }
}

async function load(): Promise<void> {
  const modelId = byId('model-id', HTMLInputElement).value.trim();
  const adapterText = byId('adapter-src', HTMLInputElement).value.trim();
  const dtype = parseDemoDtype(byId('model-dtype', HTMLSelectElement).value);
  const loadedOk = await run(`Loading ${modelId}…`, async () => {
    const started = performance.now();
    backend ??= await chooseBackend();
    byId('backend', HTMLDivElement).dataset['backend'] = backend.backend;
    byId('backend-name', HTMLElement).textContent = backend.backend;
    byId('backend', HTMLDivElement).title = backend.reason;
    const unsupported = dtypeUnsupported(dtype, backend);
    if (unsupported) throw new Error(unsupported);
    if (loaded) await loaded.model.dispose();
    loaded = null;
    adapter = null;
    loadedId = modelId;
    loaded = await loadModel({
      modelId,
      dtype,
      backend: backend.backend,
      onProgress: (text) => setStatus(`Loading ${modelId}… ${text}`, 'busy'),
    });
    if (adapterText) {
      setStatus('Fetching and parsing the adapter…', 'busy');
      adapter = await fetchAdapter(parseAdapterSource(adapterText));
    }
    adapterToggle.checked = adapter !== null;
    await applyToggle();
    if (modelId === WORDNET_MODEL) {
      setStatus('Fetching the WordNet task rows…', 'busy');
      const data = await fetchWordNetDemoData();
      [examples, heldOutRows] = [data.train, data.heldOut];
    } else {
      [examples, heldOutRows] = [MULTITASK_EXAMPLES, []];
    }
    heldOut.setRows(heldOutRows);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    setStatus(
      `Ready in ${seconds} s: ${modelId} (${dtype}) on ${backend.backend} (${backend.reason})${adapter ? ', adapter attached' : ''}.`,
      'ready',
    );
    return true;
  });
  if (loadedOk && heldOutRows.length > 0)
    await run('Answering the held-out prompts with the base model…', async () => {
      await heldOut.answerWithBase(answerHeldOut);
      await applyToggle();
      setStatus(
        `Ready: ${modelId} (${dtype}) on ${backend?.backend}; the base model answered ${heldOutRows.length} held-out prompts.`,
        'ready',
      );
    });
}

/** A held-out answer with the adapter off, or with the current adapter on (gates recorded); the switch is restored after. */
const answerHeldOut: AnswerFn = async (prompt, withAdapter) => {
  const current = loaded;
  if (!current) throw new Error('no model loaded');
  const model = current.model as unknown as Parameters<typeof attachAdapter>[0];
  try {
    if (withAdapter && adapter) {
      const options = adapter.kind !== 'lora' ? { onGates: recorder.onGates } : {};
      if (getAttachedAdapter(model)) await swapAdapter(model, adapter, options);
      else await attachAdapter(model, adapter, options);
    } else if (getAttachedAdapter(model)) {
      await detachAdapter(model);
    }
    recorder.reset();
    const result = await generateGreedy(current, { prompt, maxNewTokens: ANSWER_TOKENS });
    return { text: result.continuation, gates: withAdapter ? await recorder.matrix() : null };
  } finally {
    recorder.reset();
  }
};

async function generate(): Promise<void> {
  const current = loaded;
  if (!current) return;
  const prompt = byId('prompt', HTMLTextAreaElement).value;
  const maxNewTokens = Math.max(
    1,
    Math.min(64, Number(byId('max-new-tokens', HTMLInputElement).value) || 12),
  );
  await run('Generating…', async () => {
    recorder.reset();
    for (const key of ['promptIds', 'tokenIds', 'adapter']) output.dataset[key] = '';
    const adapterOn = getAttachedAdapter(current.model) !== undefined;
    const result = await generateGreedy(current, { prompt, maxNewTokens });
    renderOutput(output, result, adapterOn, loadedId === RANDOM_MODEL ? RANDOM_WEIGHTS_NOTE : undefined);
    const gates = adapterOn ? await recorder.matrix() : null;
    if (gates) {
      renderHeatmap(heatmap, {
        gates,
        rowLabels: result.tokenTexts.slice(0, gates.rows.length),
        firstGeneratedRow: result.promptIds.length,
      });
      const unfed = result.promptIds.length + result.newIds.length - gates.rows.length;
      const why = unfed === 1 ? 'the last generated token was' : `the last ${unfed} generated tokens were`;
      heatmap.append(
        el(
          'p',
          'muted',
          `${gates.rows.length} token rows` +
            (unfed > 0 ? `; ${why} never fed back into the model, so it has no gates.` : '.'),
        ),
      );
    } else {
      heatmap.dataset['gates'] = '';
      heatmap.replaceChildren(
        el(
          'p',
          'muted',
          adapterOn
            ? 'This adapter has no router (LoRA).'
            : 'Generate with the adapter on to see the router.',
        ),
      );
    }
    setStatus(
      `Generated ${result.newIds.length} tokens on ${current.backend} with the adapter ${adapterOn ? 'on' : 'off'}.`,
      'ready',
    );
  });
}

const heldOut = setupHeldOutPanel();
const train = setupTrainPanel({
  loaded: () => loaded,
  examples: () => examples,
  adapter: () => adapter,
  busy: () => busy,
  setTraining: (on) => {
    training = on;
    updateControls();
  },
  status: setStatus,
  adopt: async (result) => {
    adapter = result.adapter;
    // The switch decides, as for a loaded adapter: on → the trained adapter replaces the attached one.
    if (adapterToggle.checked) await applyToggle();
    // The heat-map on screen belongs to the previous adapter.
    recorder.reset();
    heatmap.dataset['gates'] = '';
    heatmap.replaceChildren(
      el('p', 'muted', 'The adapter changed (trained in the page): generate with it on to see its router.'),
    );
    if (heldOutRows.length > 0) {
      await heldOut.answerWithAdapter(answerHeldOut);
      await applyToggle();
    }
    updateControls();
  },
});

byId('load-form', HTMLFormElement).addEventListener('submit', (event) => {
  event.preventDefault();
  void load();
});
byId('generate-form', HTMLFormElement).addEventListener('submit', (event) => {
  event.preventDefault();
  void generate();
});
adapterToggle.addEventListener('change', () => {
  void run(adapterToggle.checked ? 'Attaching the adapter…' : 'Detaching the adapter…', async () => {
    await applyToggle();
    setStatus(`Adapter ${adapterToggle.checked ? 'attached' : 'detached'}.`, 'ready');
  });
});

// ?model=…&adapter=…&dtype=… preset the load form (the e2e tests load the random test model this way).
const params = new URLSearchParams(location.search);
for (const [param, id] of [
  ['model', 'model-id'],
  ['adapter', 'adapter-src'],
] as const) {
  const value = params.get(param);
  if (value !== null) byId(id, HTMLInputElement).value = value;
}
if (params.has('dtype')) byId('model-dtype', HTMLSelectElement).value = parseDemoDtype(params.get('dtype'));
void load();
