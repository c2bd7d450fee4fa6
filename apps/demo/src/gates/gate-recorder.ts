import type { GateCallback, GateOutputs } from '@mor/transformers';

/** Prefix `@mor/onnx` gives the router-gate graph outputs (`mor_gates.<module path>`). */
const GATE_PREFIX = 'mor_gates.';

/** Router gates of a run: one row per token fed through the model, columns grouped by module. */
export interface GateMatrix {
  /** Adapted module paths, in column-group order. */
  modules: string[];
  experts: number;
  /** `rows[t][m * experts + i]`: gate of expert i in module m for token t. */
  rows: Float32Array[];
}

/** Orders module paths by their numbers (layer index) first, then by name. */
export function compareModules(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

async function tensorValues(tensor: GateOutputs[string]): Promise<Float32Array> {
  // onnxruntime-web hands CPU outputs as typed arrays; a GPU-resident output must be downloaded first.
  const data =
    tensor.location && tensor.location !== 'cpu' && tensor.getData ? await tensor.getData() : tensor.data;
  if (!(data instanceof Float32Array)) throw new Error(`gate output of type ${tensor.type} is not float32`);
  return data.slice();
}

interface Pass {
  modules: string[];
  dims: number[];
  values: Float32Array[];
}

/**
 * Collects the gates `attachAdapter(..., { onGates })` reports after every forward pass: the prompt pass gives one
 * row per prompt token, each later generation step one row for the token it fed. Rows come out in the order the
 * tokens entered the model.
 */
export class GateRecorder {
  private passes: Promise<Pass>[] = [];

  /** The callback to hand to `attachAdapter`. */
  readonly onGates: GateCallback = (gates) => {
    this.passes.push(this.capture(gates));
  };

  /** Forgets what was recorded (call before each generation). */
  reset(): void {
    this.passes = [];
  }

  private async capture(gates: GateOutputs): Promise<Pass> {
    const names = Object.keys(gates).sort(compareModules);
    const first = names[0];
    if (!first) throw new Error('a forward pass reported no gate outputs');
    const dims = [...gates[first]!.dims];
    for (const name of names) {
      if (gates[name]!.dims.join() !== dims.join()) {
        throw new Error(`gate output ${name} has dims [${gates[name]!.dims}], ${first} has [${dims}]`);
      }
    }
    const values = await Promise.all(names.map((name) => tensorValues(gates[name]!)));
    return {
      modules: names.map((n) => (n.startsWith(GATE_PREFIX) ? n.slice(GATE_PREFIX.length) : n)),
      dims,
      values,
    };
  }

  /** The gates recorded since the last {@link reset}, as token rows (batch row 0). */
  async matrix(): Promise<GateMatrix | null> {
    const passes = await Promise.all(this.passes);
    if (passes.length === 0) return null;
    const { modules } = passes[0]!;
    const experts = passes[0]!.dims.at(-1) ?? 0;
    const rows: Float32Array[] = [];
    for (const pass of passes) {
      if (pass.modules.join() !== modules.join())
        throw new Error('the adapted modules changed between passes');
      // [batch, seq, N]: the demo generates one row, so batch index 0 holds every token.
      const seq = pass.dims.length >= 2 ? pass.dims.at(-2)! : 1;
      for (let t = 0; t < seq; t++) {
        const row = new Float32Array(modules.length * experts);
        pass.values.forEach((values, m) =>
          row.set(values.subarray(t * experts, (t + 1) * experts), m * experts),
        );
        rows.push(row);
      }
    }
    return { modules, experts, rows };
  }
}
