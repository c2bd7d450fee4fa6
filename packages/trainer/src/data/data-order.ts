import { MorRng, createRng, type RngState } from '@mor/core';

/**
 * Where the trainer stands in the data, JSON-safe for `trainer_state.json`. With `rngState` (the shuffle
 * generator as it was BEFORE this epoch's permutation was drawn) the permutation is drawn again on resume, so
 * a resumed run sees exactly the batches an uninterrupted one would.
 */
export interface DataPosition {
  /** 0-based epoch. */
  epoch: number;
  /** Examples of this epoch already consumed. */
  index: number;
  /** Shuffle generator state at the start of `epoch`; null with shuffling off. */
  rngState: RngState | null;
}

/** Options of {@link DataOrder}. */
export interface DataOrderOptions {
  /** Number of examples. */
  size: number;
  /** Shuffle each epoch (default true). */
  shuffle?: boolean;
  /** Seed of the shuffle generator. */
  seed?: number;
}

/** Fisher–Yates over `0..n-1` with the given generator (unbiased: the index is drawn from a uint32 by rejection). */
export function shuffledIndices(n: number, rng: MorRng): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const range = i + 1;
    const limit = Math.floor(4294967296 / range) * range;
    let x = rng.nextUint32();
    while (x >= limit) x = rng.nextUint32();
    const j = x % range;
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/**
 * The order in which the trainer visits the examples: epoch after epoch, reshuffled at each epoch start with a
 * seeded {@link MorRng}. `next(k)` hands out up to k indices without crossing an epoch end (the last batch of an
 * epoch may be smaller, as with PyTorch's DataLoader without `drop_last`).
 */
export class DataOrder {
  private readonly size: number;
  private readonly rng: MorRng | null;
  private epochStart: RngState | null = null;
  private order: number[] = [];
  private epochIndex = 0;
  private index = 0;

  constructor(options: DataOrderOptions, position?: DataPosition) {
    if (!Number.isInteger(options.size) || options.size < 1) throw new RangeError('DataOrder: no examples');
    this.size = options.size;
    const shuffle = options.shuffle ?? true;
    if (position && (position.rngState === null) === shuffle) {
      throw new RangeError(
        `the saved data position was ${shuffle ? 'not ' : ''}shuffled; resume with the same shuffle setting`,
      );
    }
    this.rng = shuffle
      ? position?.rngState
        ? MorRng.fromState(position.rngState)
        : createRng(options.seed ?? 0)
      : null;
    this.startEpoch(position?.epoch ?? 0);
    if (position) {
      if (!Number.isInteger(position.index) || position.index < 0 || position.index > this.size) {
        throw new RangeError(
          `the saved data position ${position.index} is outside the ${this.size} examples`,
        );
      }
      this.index = position.index;
    }
  }

  private startEpoch(epoch: number): void {
    this.epochIndex = epoch;
    this.index = 0;
    this.epochStart = this.rng ? this.rng.getState() : null;
    this.order = this.rng
      ? shuffledIndices(this.size, this.rng)
      : Array.from({ length: this.size }, (_, i) => i);
  }

  /** The next batch of at most `k` example indices (never empty; rolls over to the next epoch when needed). */
  next(k: number): number[] {
    if (this.index >= this.size) this.startEpoch(this.epochIndex + 1);
    const batch = this.order.slice(this.index, this.index + k);
    this.index += batch.length;
    return batch;
  }

  /** Epochs completed so far, with the fraction of the current one (for progress and summaries). */
  get epochsDone(): number {
    return this.epochIndex + this.index / this.size;
  }

  /** The current 0-based epoch. */
  get epoch(): number {
    return this.epochIndex;
  }

  /** A snapshot to save in a checkpoint. */
  position(): DataPosition {
    return { epoch: this.epochIndex, index: this.index, rngState: this.epochStart };
  }
}
