import { TrainSetupError } from './train-errors.js';

/** Dynamic loss scaling's hyper-parameters: PyTorch's `torch.amp.GradScaler` defaults. */
export interface LossScalingOptions {
  /** Scale of the first step (default 2^16). */
  initScale?: number;
  /** Multiplier after `growthInterval` consecutive steps without overflow (default 2). */
  growthFactor?: number;
  /** Multiplier after a step whose gradients overflowed (default 0.5). */
  backoffFactor?: number;
  /** Consecutive finite steps before the scale grows (default 2000). */
  growthInterval?: number;
}

/** The scaler's state: what a checkpoint would need to continue it. */
export interface GradScalerState {
  scale: number;
  /** Consecutive finite updates since the scale last changed. */
  growthTracker: number;
}

/**
 * Dynamic loss scaling for float16 graphs, as PyTorch's GradScaler (`_amp_update_scale_`): the backward starts
 * from `loss · scale`, so float16 gradients of the base stay above float16's underflow; the float32 parameter
 * gradients are divided by the scale again; a step whose gradients hold an inf/NaN is skipped (parameters and
 * optimizer state unchanged, loss-scaling.ts) and the scale backs off; after `growthInterval` finite steps in a
 * row it grows. Validated once, here.
 */
export class GradScaler {
  readonly growthFactor: number;
  readonly backoffFactor: number;
  readonly growthInterval: number;
  private state: GradScalerState;

  constructor(o: LossScalingOptions = {}) {
    const initScale = o.initScale ?? 2 ** 16;
    this.growthFactor = o.growthFactor ?? 2;
    this.backoffFactor = o.backoffFactor ?? 0.5;
    this.growthInterval = o.growthInterval ?? 2000;
    if (!(initScale > 0 && Number.isFinite(initScale)))
      throw new TrainSetupError(`loss scaling: initScale must be a finite number > 0, got ${initScale}`);
    if (!(this.growthFactor > 1))
      throw new TrainSetupError(`loss scaling: growthFactor must be > 1, got ${this.growthFactor}`);
    if (!(this.backoffFactor > 0 && this.backoffFactor < 1))
      throw new TrainSetupError(`loss scaling: backoffFactor must be in (0, 1), got ${this.backoffFactor}`);
    if (!(Number.isInteger(this.growthInterval) && this.growthInterval >= 1))
      throw new TrainSetupError(
        `loss scaling: growthInterval must be an integer ≥ 1, got ${this.growthInterval}`,
      );
    this.state = { scale: initScale, growthTracker: 0 };
  }

  /** The scale to multiply the next step's loss by. */
  get scale(): number {
    return this.state.scale;
  }

  /** After an update step: back off on overflow, else count it and grow every `growthInterval` steps. */
  update(foundInf: boolean): void {
    if (foundInf) {
      this.state = { scale: this.state.scale * this.backoffFactor, growthTracker: 0 };
      return;
    }
    const successful = this.state.growthTracker + 1;
    this.state =
      successful === this.growthInterval
        ? { scale: this.state.scale * this.growthFactor, growthTracker: 0 }
        : { scale: this.state.scale, growthTracker: successful };
  }

  getState(): GradScalerState {
    return { ...this.state };
  }

  /** Restores a checkpoint's state (so a resumed run scales and skips as an uninterrupted one). */
  setState(state: GradScalerState): void {
    const { scale, growthTracker } = state;
    if (!(scale > 0 && Number.isFinite(scale)))
      throw new TrainSetupError(
        `loss scaling: a checkpoint's scale must be a finite number > 0, got ${scale}`,
      );
    if (!(Number.isInteger(growthTracker) && growthTracker >= 0 && growthTracker < this.growthInterval))
      throw new TrainSetupError(
        `loss scaling: a checkpoint's growth tracker must be an integer in [0, ${this.growthInterval}), got ${growthTracker}`,
      );
    this.state = { scale, growthTracker };
  }
}
