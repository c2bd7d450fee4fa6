import type { Adapter } from '@mor/format';
import { checkDevice, explainDeviceFailure } from '../devices.js';
import { runningInNode, transformersOrt } from '../ort-module.js';
import { requirePlatform, type StagedModels } from '../platform.js';
import { openSessionModel, type CreateSession, type SessionModel } from '../session-model.js';
import { adapterFromParams } from './adapter-from-params.js';
import { batchFeeds, checkBatch, countTargets } from './batch-feeds.js';
import { DROPOUT_STEP_INPUT } from './adapter-dropout.js';
import { ACCUM_INPUTS, buildTrainGraphs, type TrainGraphs } from './build-train-graph.js';
import { DeviceState } from './device-state.js';
import { TRAIN_MEMORY_OPTIONS, trainSessionOptions } from './session-options.js';
import { TrainSetupError } from './train-errors.js';
import { GradScaler } from './grad-scaler.js';
import { FOUND_INF_OUTPUT, LOSS_SCALE_INPUT } from './loss-scaling.js';
import type {
  EvalResult,
  HostTensor,
  OptimizerState,
  StepResult,
  TrainBatch,
  TrainOrt,
  TrainOrtSession,
  TrainOrtTensor,
  TrainSessionOptions,
} from './types.js';

type Device = 'cpu' | 'webgpu' | 'cuda' | 'wasm';
/** onnxruntime-node (every device but wasm, in Node) opens models with external data from files it maps. */
const viaFiles = (device: Device) => runningInNode() && device !== 'wasm';
const scalar = (t: TrainOrtTensor | undefined) =>
  t ? Number((t.data as ArrayLike<number | bigint>)[0]) : NaN;

/**
 * Trains a MoR / LoRA adapter (or selected base weights) on an ONNX model with onnxruntime: one train-step graph
 * (forward → loss → gradients → optimizer update), one `session.run` per step; parameters and optimizer state
 * stay on the device between steps and only the loss is read back.
 */
export class TrainSession {
  private steps = 0;
  private micro = { count: 0, weight: 0 };
  private evalSession: TrainOrtSession | null = null;
  private readonly downloads = new Map<string, Promise<TrainOrtSession>>();
  /** Node: the train and eval graphs' files (weights shared), removed at dispose. */
  private staged: StagedModels | null = null;
  /** Dynamic loss scaling (float16 models); null when off. */
  private readonly scaler: GradScaler | null;

  private constructor(
    private readonly ort: TrainOrt,
    private readonly options: TrainSessionOptions & { device: Device },
    private graphs: TrainGraphs,
    private readonly session: TrainOrtSession,
    private readonly state: DeviceState,
  ) {
    this.scaler = graphs.lossScaling ? new GradScaler(graphs.lossScaling) : null;
  }

  /** Builds the graphs and opens the train session on `options.device` (default `cpu`). */
  static async create(options: TrainSessionOptions): Promise<TrainSession> {
    // `wasm` in Node: onnxruntime-web's, when the caller hands it over as `ort` (transformers.js has none there).
    const device =
      options.device === 'wasm' && options.ort && runningInNode()
        ? 'wasm'
        : await checkDevice(options.device ?? 'cpu');
    const accum = options.gradAccum ?? 1;
    if (!Number.isInteger(accum) || accum < 1)
      throw new TrainSetupError(`gradAccum must be an integer ≥ 1, got ${accum}`);
    const ort = options.ort ?? (await transformersOrt());
    const graphs = await buildTrainGraphs(options);
    const resident = new Set(graphs.carried.values());
    const outputs = ['loss', ...resident, ...graphs.gradients.values()];
    if (graphs.hasAuxLoss) outputs.push('aux_loss');
    if (graphs.hasGradNorm) outputs.push('grad_norm');
    if (graphs.lossScaling) outputs.push(FOUND_INF_OUTPUT);
    let session: TrainOrtSession;
    let staged: StagedModels | null = null;
    const opened = performance.now();
    try {
      const create: CreateSession<TrainOrtSession> = (source, o) => ort.InferenceSession.create(source, o);
      const sessionOptions = {
        ...TRAIN_MEMORY_OPTIONS,
        ...options.sessionOptions,
        ...trainSessionOptions(device, outputs, resident),
      };
      if (graphs.linkedFiles.length > 0 && !viaFiles(device))
        throw new TrainSetupError(
          `externalDataDir needs onnxruntime-node's file-backed sessions (Node, not wasm); device ${device} here`,
        );
      const linked = graphs.linkedFiles.length
        ? { dir: options.externalDataDir!, files: graphs.linkedFiles }
        : null;
      if (viaFiles(device) && (graphs.trainModel.externalData.length > 0 || linked)) {
        // Both graphs' weights go to files once (shared where they are the same tensors); onnxruntime maps them
        // and the eval session opens from them later, so nothing here keeps the model's bytes.
        staged = await requirePlatform('file-backed sessions').stageModelFiles(
          { train: graphs.trainModel, eval: graphs.evalModel },
          linked,
        );
        session = await create(staged.path('train'), sessionOptions);
      } else session = await openSessionModel(graphs.trainModel, create, sessionOptions, viaFiles(device));
    } catch (error) {
      await staged?.remove();
      throw explainDeviceFailure(device, error);
    }
    options.onSetupPhase?.('open', performance.now() - opened);
    const uploaded = performance.now();
    const dims = new Map([...graphs.params].map(([k, v]) => [k, v.dims]));
    for (const [s, p] of graphs.stateOf) dims.set(s, dims.get(p)!);
    const state = new DeviceState(ort, graphs.carried, dims);
    state.set(graphs.params.keys(), graphs.params);
    state.set(graphs.stateOf.keys());
    options.onSetupPhase?.('state', performance.now() - uploaded);
    graphs.trainModel = { bytes: new Uint8Array(0), externalData: [] }; // onnxruntime has its own copy
    if (staged) graphs.evalModel = { bytes: new Uint8Array(0), externalData: [] }; // in the staged files
    // Neither the model's bytes nor its external data are needed past this point: not kept.
    const kept = { ...options, model: new Uint8Array(0), externalData: undefined, device };
    const trainSession = new TrainSession(ort, kept, graphs, session, state);
    trainSession.staged = staged;
    return trainSession;
  }

  /** Updates applied so far. */
  get stepCount(): number {
    return this.steps;
  }

  /**
   * Forward + backward + update on one batch. With `gradAccum` k, the first k−1 calls only accumulate
   * (token-weighted) gradients and the k-th updates with the gradient of the loss over all k micro-batches.
   */
  async step(batch: TrainBatch, options: { lr: number }): Promise<StepResult> {
    const { task } = this.options;
    checkBatch(batch, task);
    const tokens = countTargets(batch, task);
    const g = this.graphs;
    const f32 = (v: number) => new this.ort.Tensor('float32', Float32Array.of(v) as never, []);
    const feeds: Record<string, TrainOrtTensor> = {
      ...batchFeeds(this.ort, g.layout, batch, task),
      ...this.state.feeds(g.carried.keys()),
      lr: f32(options.lr),
    };
    const lossScale = this.scaler?.scale;
    if (lossScale !== undefined) feeds[LOSS_SCALE_INPUT] = f32(lossScale);
    if (g.scalarInputs.includes('step')) feeds['step'] = f32(this.steps + 1);
    if (g.hasDropout) {
      // Masks follow the micro-batch number, which a resumed session recomputes from the restored step count.
      const micro = this.steps * (this.options.gradAccum ?? 1) + this.micro.count;
      feeds[DROPOUT_STEP_INPUT] = new this.ort.Tensor('int32', Int32Array.of(micro) as never, []);
    }
    let updated = true;
    if (g.accumulate) {
      this.micro = { count: this.micro.count + 1, weight: this.micro.weight + tokens };
      updated = this.micro.count === (this.options.gradAccum ?? 1);
      feeds[ACCUM_INPUTS.weight] = f32(tokens);
      feeds[ACCUM_INPUTS.total] = f32(updated ? Math.max(this.micro.weight, 1) : 1);
      feeds[ACCUM_INPUTS.apply] = new this.ort.Tensor('bool', Uint8Array.of(updated ? 1 : 0) as never, []);
    }
    const out = await this.session.run(feeds);
    this.state.advance(out);
    // An overflowed step left parameters and optimizer state as they were (loss-scaling.ts): not counted.
    const skipped = this.scaler !== null && updated && scalar(out[FOUND_INF_OUTPUT]) !== 0;
    if (updated) {
      if (!skipped) this.steps++;
      this.scaler?.update(skipped);
      this.micro = { count: 0, weight: 0 };
    }
    const result: StepResult = { loss: scalar(out['loss']), tokens, updated };
    if (lossScale !== undefined) {
      result.lossScale = lossScale;
      if (skipped) result.skipped = true;
    }
    if (g.hasAuxLoss) result.auxLoss = scalar(out['aux_loss']);
    if (g.hasGradNorm && updated) result.gradNorm = scalar(out['grad_norm']);
    if (g.gradients.size > 0)
      result.gradients = Object.fromEntries(
        [...g.gradients].map(([p, o]) => [p, Float32Array.from(out[o]!.data as Float32Array)]),
      );
    return result;
  }

  /** Loss (and accuracy counts for seq-cls) of the current parameters on a batch, without dropout or update. */
  async evaluate(batch: TrainBatch): Promise<EvalResult> {
    const { task } = this.options;
    checkBatch(batch, task);
    this.evalSession ??= await this.open(
      this.staged?.path('eval') ?? this.graphs.evalModel,
      this.sessionOptions(),
    );
    const out = await this.evalSession.run({
      ...batchFeeds(this.ort, this.graphs.layout, batch, task),
      ...this.state.feeds(this.graphs.params.keys()),
    });
    const count = countTargets(batch, task);
    const result: EvalResult = { loss: scalar(out['loss']), tokens: count, count };
    if (task === 'seq-cls') result.correct = scalar(out['correct']);
    return result;
  }

  /** The trained weights as an adapter of the same config (mor / lora). Copies them from the device. */
  async getAdapter(): Promise<Adapter> {
    const initial = this.options.adapter;
    if (this.options.method === 'full' || !initial)
      throw new TrainSetupError('method "full" trains base weights, not an adapter: use getParameters()');
    return adapterFromParams(initial, await this.getParameters(), this.graphs.adapterTensors);
  }

  /** Every trained tensor by graph input name (adapter tensors, or base weights for `full`), on the host. */
  async getParameters(): Promise<Map<string, HostTensor>> {
    return this.state.download([...this.graphs.params.keys()], () => this.download('params'));
  }

  /** The optimizer state for a checkpoint (`step` counts updates). Pending micro-batches are not included. */
  async getOptimizerState(): Promise<OptimizerState> {
    const names = this.graphs.optimizerState;
    const values = await this.state.download(names, () => this.download('state'));
    return {
      step: this.steps,
      tensors: Object.fromEntries(values),
      ...(this.scaler ? { lossScale: this.scaler.getState() } : {}),
    };
  }

  /** Restores a checkpoint's optimizer state (and step count); pending micro-batches are dropped. */
  async setOptimizerState(state: OptimizerState): Promise<void> {
    const names = this.graphs.optimizerState;
    const given = Object.keys(state.tensors);
    const missing = names.filter((n) => !given.includes(n));
    const extra = given.filter((n) => !names.includes(n));
    if (missing.length || extra.length)
      throw new TrainSetupError(
        `optimizer state does not fit this session (missing: ${missing.join(', ') || 'none'}; unexpected: ${extra.join(', ') || 'none'})`,
      );
    for (const n of names) {
      const want = this.state.dims.get(n)!;
      if (state.tensors[n]!.dims.join() !== want.join())
        throw new TrainSetupError(
          `optimizer state "${n}" has dims [${state.tensors[n]!.dims}], expected [${want}]`,
          {
            tensor: n,
          },
        );
    }
    if (this.scaler && state.lossScale) this.scaler.setState(state.lossScale);
    this.state.set(names, new Map(Object.entries(state.tensors)));
    this.state.set(this.graphs.accumulators);
    this.steps = state.step;
    this.micro = { count: 0, weight: 0 };
  }

  /** Releases the sessions and the device-resident tensors. */
  async dispose(): Promise<void> {
    this.state.dispose();
    const sessions = [this.session, this.evalSession, ...(await Promise.all(this.downloads.values()))];
    await Promise.all(sessions.map((s) => s?.release()));
    await this.staged?.remove();
    this.staged = null;
  }

  /** Options of the eval and download sessions: the caller's extras with this device's provider. */
  private sessionOptions(): Record<string, unknown> {
    return {
      ...TRAIN_MEMORY_OPTIONS,
      ...this.options.sessionOptions,
      executionProviders: [this.options.device],
    };
  }

  /** Opens a model from its bytes, its encoding, or (Node) a staged file. */
  private async open(
    model: SessionModel | Uint8Array | string,
    options: Record<string, unknown>,
  ): Promise<TrainOrtSession> {
    try {
      const create: CreateSession<TrainOrtSession> = (source, o) =>
        this.ort.InferenceSession.create(source, o);
      if (typeof model === 'string') return await create(model, options);
      const m = model instanceof Uint8Array ? { bytes: model, externalData: [] } : model;
      return await openSessionModel(m, create, options, viaFiles(this.options.device));
    } catch (error) {
      throw explainDeviceFailure(this.options.device, error);
    }
  }

  private download(which: 'params' | 'state'): Promise<TrainOrtSession> {
    const bytes = this.graphs.downloads[which]!;
    if (!this.downloads.has(which)) this.downloads.set(which, this.open(bytes, this.sessionOptions()));
    return this.downloads.get(which)!;
  }
}
