import { adapterParameterCount, type Adapter } from '@mor/format';
import { MULTITASK_EXAMPLES } from '../data/multitask.js';
import type { LoadedModel } from '../model/load-model.js';
import { byId, el, errorMessage } from '../ui/dom.js';
import { adapterZip, downloadBytes } from './adapter-zip.js';
import { drawLossPlot, type LossPoint } from './loss-plot.js';
import { trainingEngine, type TrainInBrowserResult } from './train-in-browser.js';

/** What the training panel reads from and hands back to the rest of the page. */
export interface TrainPanelHost {
  loaded(): LoadedModel | null;
  adapter(): Adapter | null;
  /** A training run finished: make its adapter the current one. */
  adopt(result: TrainInBrowserResult): Promise<void>;
}

export const ENGINE_MISSING_NOTE =
  'Training engine not available yet: the in-browser trainer (autodiff over ONNX) is still being built. ' +
  'The data set, loss plot and adapter download are ready for it.';

/** Wires section 4: data set table, loss plot, Train/Stop (live only once an engine is registered), download. */
export function setupTrainPanel(host: TrainPanelHost): { refresh(): void } {
  const plot = byId('loss-plot', HTMLCanvasElement);
  const start = byId('train-start', HTMLButtonElement);
  const stop = byId('train-stop', HTMLButtonElement);
  const download = byId('download-adapter', HTMLButtonElement);
  const note = byId('train-note', HTMLParagraphElement);
  const points: LossPoint[] = [];
  let running: AbortController | null = null;

  const body = byId('dataset', HTMLTableElement).tBodies[0]!;
  for (const row of MULTITASK_EXAMPLES) {
    const tr = el('tr');
    tr.append(el('td', '', row.task), el('td', '', row.prompt), el('td', '', row.completion));
    body.append(tr);
  }
  byId('dataset-count', HTMLSpanElement).textContent = `(${MULTITASK_EXAMPLES.length} rows, 4 tasks)`;

  const redraw = () =>
    drawLossPlot(
      plot,
      points,
      trainingEngine() ? 'press Train to start' : 'training engine not available yet',
    );

  const refresh = () => {
    const engine = trainingEngine();
    const loaded = host.loaded();
    const adapter = host.adapter();
    byId('train-backend', HTMLElement).textContent = loaded?.backend ?? '…';
    start.disabled = !engine || !loaded || adapter?.kind !== 'mor' || running !== null;
    stop.disabled = running === null;
    download.disabled = !adapter;
    download.title = adapter
      ? `${adapter.kind} adapter, ${adapterParameterCount(adapter)} parameters`
      : 'load an adapter first';
    if (!engine) note.textContent = ENGINE_MISSING_NOTE;
    else if (adapter?.kind !== 'mor') note.textContent = 'Load a MoR adapter to train from.';
    else note.textContent = '';
    redraw();
  };

  download.addEventListener('click', () => {
    const adapter = host.adapter();
    if (!adapter) return;
    try {
      downloadBytes(adapterZip(adapter), 'mor-adapter.zip');
    } catch (error) {
      note.textContent = `Download failed: ${errorMessage(error)}`;
    }
  });

  start.addEventListener('click', async () => {
    const engine = trainingEngine();
    const loaded = host.loaded();
    const initial = host.adapter();
    if (!engine || !loaded || initial?.kind !== 'mor') return;
    const number = (id: string) => Number(byId(id, HTMLInputElement).value);
    running = new AbortController();
    points.length = 0;
    refresh();
    try {
      const result = await engine({
        model: loaded.model,
        tokenizer: loaded.tokenizer,
        backend: loaded.backend,
        initial,
        examples: MULTITASK_EXAMPLES,
        steps: number('train-steps'),
        batchSize: number('train-batch'),
        learningRate: number('train-lr'),
        optimizer: byId('train-optimizer', HTMLSelectElement).value === 'sgd' ? 'sgd' : 'adamw',
        seed: 0,
        signal: running.signal,
        onStep: (report) => {
          points.push({ step: report.step, loss: report.loss });
          redraw();
        },
      });
      await host.adopt(result);
    } catch (error) {
      running = null;
      refresh();
      note.textContent = `Training failed: ${errorMessage(error)}`;
      return;
    }
    running = null;
    refresh();
  });
  stop.addEventListener('click', () => running?.abort());

  refresh();
  return { refresh };
}
