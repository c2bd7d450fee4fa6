import { adapterParameterCount, type Adapter, type MorAdapter, type TrainingSummary } from '@mor/format';
import type { TrainExample } from '../data/multitask.js';
import type { LoadedModel } from '../model/load-model.js';
import { byId, el, errorMessage } from '../ui/dom.js';
import { adapterZip, downloadBytes } from './adapter-zip.js';
import { freshMorAdapter } from './fresh-adapter.js';
import { drawLossPlot, type LossPoint } from './loss-plot.js';
import { trainingEngine, type TrainInBrowserResult, type TrainStepReport } from './train-in-browser.js';
import { trainingSummary } from './training-summary.js';

/** What the training panel reads from and hands back to the rest of the page. */
export interface TrainPanelHost {
  loaded(): LoadedModel | null;
  /** The rows to train on (they depend on the loaded model). */
  examples(): readonly TrainExample[];
  adapter(): Adapter | null;
  /** Whether the page is loading or generating (training waits; generation waits while training runs). */
  busy(): boolean;
  /** Training started (true) or ended (false): the page locks or unlocks its other controls. */
  setTraining(training: boolean): void;
  /** The page's status line. */
  status(text: string, state: 'busy' | 'ready' | 'error'): void;
  /** A training run finished: make its adapter the current one (attached if the switch is on). */
  adopt(result: TrainInBrowserResult): Promise<void>;
}

export const ENGINE_MISSING_NOTE =
  'Training engine not available yet: no in-browser trainer is registered (see src/train/train-in-browser.ts).';

/** `#train-stats[data-state]`: where the panel stands (the e2e tests wait on it). */
type TrainState = 'idle' | 'running' | 'done' | 'stopped' | 'error';

const fmt = (v: number, digits: number) => (Number.isFinite(v) ? v.toFixed(digits) : '–');

/**
 * Wires section 4: data set table, loss plot, Train/Stop, download. Train runs the registered engine (when there
 * is one) from a fresh seeded MoR adapter or from the loaded one; every step's measured loss is plotted and kept
 * in `#loss-plot[data-losses]`, and the trained adapter becomes the page's adapter (and what Download zips, with
 * its training_summary.json).
 */
export function setupTrainPanel(host: TrainPanelHost): { refresh(): void } {
  const plot = byId('loss-plot', HTMLCanvasElement);
  const start = byId('train-start', HTMLButtonElement);
  const stop = byId('train-stop', HTMLButtonElement);
  const download = byId('download-adapter', HTMLButtonElement);
  const note = byId('train-note', HTMLParagraphElement);
  const stats = byId('train-stats', HTMLParagraphElement);
  const init = byId('train-init', HTMLSelectElement);
  const points: LossPoint[] = [];
  const summaries = new WeakMap<Adapter, TrainingSummary>();
  let running: AbortController | null = null;
  let plannedSteps = 0;

  const body = byId('dataset', HTMLTableElement).tBodies[0]!;
  let shown: readonly TrainExample[] | null = null;
  const showDataset = () => {
    const rows = host.examples();
    if (rows === shown) return;
    shown = rows;
    body.replaceChildren(
      ...rows.map((row) => {
        const tr = el('tr');
        tr.append(el('td', '', row.task), el('td', '', row.prompt), el('td', '', row.completion));
        return tr;
      }),
    );
    byId('dataset-count', HTMLSpanElement).textContent =
      `(${rows.length} rows, ${new Set(rows.map((r) => r.task)).size} tasks)`;
  };

  const setState = (state: TrainState, text: string) => {
    stats.dataset['state'] = state;
    stats.textContent = text;
  };

  const redraw = () => {
    plot.dataset['losses'] = JSON.stringify(points.map((p) => p.loss));
    drawLossPlot(
      plot,
      points,
      trainingEngine() ? 'press Train to start' : 'training engine not available yet',
      plannedSteps,
    );
    plot.dataset['drawn'] = String(points.length);
  };

  const refresh = () => {
    showDataset();
    const engine = trainingEngine();
    const loaded = host.loaded();
    const adapter = host.adapter();
    const fromLoaded = init.value === 'loaded';
    byId('train-backend', HTMLElement).textContent = loaded?.backend ?? '…';
    const ready = engine && loaded && (!fromLoaded || adapter?.kind === 'mor');
    start.disabled = !ready || running !== null || host.busy();
    stop.disabled = running === null;
    init.disabled = running !== null;
    download.disabled = !adapter || running !== null;
    download.title = adapter
      ? `${adapter.kind} adapter, ${adapterParameterCount(adapter)} parameters` +
        (summaries.has(adapter) ? ' (trained here; zip includes training_summary.json)' : '')
      : 'load an adapter first';
    if (running) return;
    if (!engine) note.textContent = ENGINE_MISSING_NOTE;
    else if (fromLoaded && adapter?.kind !== 'mor')
      note.textContent = 'Load a MoR adapter to train from, or start from a fresh one.';
    else if (note.dataset['sticky'] !== 'true') note.textContent = '';
    redraw();
  };

  download.addEventListener('click', () => {
    const adapter = host.adapter();
    if (!adapter) return;
    try {
      downloadBytes(adapterZip(adapter, summaries.get(adapter)), 'mor-adapter.zip');
    } catch (error) {
      note.textContent = `Download failed: ${errorMessage(error)}`;
    }
  });

  const onStep = (report: TrainStepReport) => {
    points.push({ step: report.step, loss: report.loss });
    redraw();
    setState(
      'running',
      `step ${report.step}/${plannedSteps} · loss ${fmt(report.loss, 4)} · ${report.tokens} tokens ` +
        `(${report.targetTokens} learned) in ${fmt(report.stepMs, 0)} ms · ` +
        `${fmt(report.tokensPerSecond, 0)} tokens/s · ${fmt(report.elapsedMs / 1000, 1)} s elapsed`,
    );
  };

  start.addEventListener('click', async () => {
    const engine = trainingEngine();
    const loaded = host.loaded();
    const current = host.adapter();
    if (!engine || !loaded || running) return;
    const number = (id: string) => Number(byId(id, HTMLInputElement).value);
    const hyper = {
      steps: number('train-steps'),
      batchSize: number('train-batch'),
      learningRate: number('train-lr'),
      optimizer:
        byId('train-optimizer', HTMLSelectElement).value === 'sgd' ? ('sgd' as const) : ('adamw' as const),
      seed: number('train-seed'),
    };
    const from = init.value === 'loaded' ? 'loaded' : 'fresh';
    const examples = host.examples();
    running = new AbortController();
    plannedSteps = Number.isFinite(hyper.steps) ? hyper.steps : 0;
    points.length = 0;
    note.dataset['sticky'] = 'false';
    note.textContent = '';
    host.setTraining(true);
    refresh();
    redraw();
    const phase = (text: string) => {
      setState('running', text);
      host.status(`Training on ${loaded.backend}: ${text}`, 'busy');
    };
    try {
      let initial: MorAdapter;
      if (from === 'loaded') {
        if (current?.kind !== 'mor') throw new Error('the loaded adapter is not a MoR adapter');
        initial = current;
      } else {
        phase(`Initialising a fresh MoR adapter (seed ${hyper.seed})…`);
        initial = await freshMorAdapter({
          base: loaded.base,
          modelType: (loaded.model.config as { model_type?: string }).model_type,
          like: current?.kind === 'mor' ? current : null,
          seed: hyper.seed,
          baseModel: loaded.modelId,
        });
      }
      const result = await engine({
        model: loaded.model,
        base: loaded.base,
        tokenizer: loaded.tokenizer,
        backend: loaded.backend,
        initial,
        examples,
        ...hyper,
        signal: running.signal,
        onStep,
        onPhase: phase,
      });
      summaries.set(
        result.adapter,
        trainingSummary(
          {
            ...hyper,
            backend: loaded.backend,
            modelId: loaded.modelId,
            init: from,
            rows: examples.length,
          },
          result,
        ),
      );
      phase('Attaching the trained adapter…');
      await host.adopt(result);
      const { losses } = result;
      const summary =
        `${result.stoppedEarly ? 'Stopped after' : 'Trained'} ${losses.length} step${losses.length === 1 ? '' : 's'} ` +
        `on ${loaded.backend} in ${fmt(result.elapsedMs / 1000, 1)} s (setup ${fmt(result.setupMs / 1000, 1)} s)` +
        (losses.length > 0 ? `: loss ${fmt(losses[0]!, 4)} → ${fmt(losses.at(-1)!, 4)}` : '') +
        `, ${fmt((result.tokens * 1000) / Math.max(1, result.stepMs), 0)} tokens/s over the steps.`;
      setState(result.stoppedEarly ? 'stopped' : 'done', summary);
      note.dataset['sticky'] = 'true';
      note.textContent =
        'The trained adapter is now the page’s adapter: generate to see its text and router, or download it.';
      host.status(summary, 'ready');
    } catch (error) {
      console.error(error);
      setState('error', `Training failed: ${errorMessage(error)}`);
      host.status(`Training failed: ${errorMessage(error)}`, 'error');
    } finally {
      running = null;
      host.setTraining(false);
      refresh();
    }
  });
  stop.addEventListener('click', () => {
    running?.abort();
    stop.disabled = true;
  });
  init.addEventListener('change', refresh);

  setState('idle', 'Not trained yet.');
  refresh();
  return { refresh };
}
