import { copiedName } from './identity-model.js';
import type { HostTensor, TrainOrt, TrainOrtSession, TrainOrtTensor } from './types.js';

/**
 * The tensors a train step carries from one run to the next (parameters, optimizer state, accumulators), kept
 * where the session left them: ort CPU tensors on `cpu`, GPU buffers on `webgpu` — fed back as they are, so
 * nothing is uploaded after the first step. Replaced tensors are disposed (frees their GPU buffers).
 */
export class DeviceState {
  private readonly tensors = new Map<string, TrainOrtTensor>();

  constructor(
    private readonly ort: TrainOrt,
    /** Input name → the output that holds its next value. */
    private readonly next: ReadonlyMap<string, string>,
    /** Input name → dims. */
    readonly dims: ReadonlyMap<string, number[]>,
  ) {}

  /** Uploads host values (first step, or a restored checkpoint); zeros where `values` has none. */
  set(names: Iterable<string>, values: ReadonlyMap<string, HostTensor> = new Map()): void {
    for (const name of names) {
      const dims = this.dims.get(name)!;
      const data = values.get(name)?.data ?? new Float32Array(dims.reduce((a, b) => a * b, 1));
      this.replace(name, new this.ort.Tensor('float32', data as never, dims));
    }
  }

  /** The current tensors, to feed. */
  feeds(names?: Iterable<string>): Record<string, TrainOrtTensor> {
    const list = names ? [...names] : [...this.tensors.keys()];
    return Object.fromEntries(list.map((n) => [n, this.tensors.get(n)!]));
  }

  /** Takes the updated values from a run's outputs. */
  advance(outputs: Record<string, TrainOrtTensor>): void {
    for (const [input, output] of this.next) this.replace(input, outputs[output]!);
  }

  /** Copies `names` to the host: directly from CPU tensors, through `download` (Identity model) otherwise. */
  async download(
    names: readonly string[],
    download: () => Promise<TrainOrtSession>,
  ): Promise<Map<string, HostTensor>> {
    const out = new Map<string, HostTensor>();
    const onDevice = names.filter((n) => this.tensors.get(n)!.location === 'gpu-buffer');
    const copies = onDevice.length > 0 ? await (await download()).run(this.feeds(names)) : {};
    for (const name of names) {
      const t = copies[copiedName(name)] ?? this.tensors.get(name)!;
      out.set(name, { dims: [...this.dims.get(name)!], data: Float32Array.from(t.data as Float32Array) });
    }
    return out;
  }

  dispose(): void {
    for (const t of this.tensors.values()) t.dispose();
    this.tensors.clear();
  }

  private replace(name: string, tensor: TrainOrtTensor): void {
    const old = this.tensors.get(name);
    this.tensors.set(name, tensor);
    if (old && old !== tensor) old.dispose();
  }
}
