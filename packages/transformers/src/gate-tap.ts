import type { OrtSessionLike, OrtTensorLike } from '@mor/engine';

/** Router gates of one forward pass, by graph output name (one per adapted layer, shape `[..., N]`). */
export type GateOutputs = Record<string, OrtTensorLike>;

/** Called after every forward pass of an adapted session (each generation step included) with its gates. */
export type GateCallback = (gates: GateOutputs) => void;

/**
 * Wraps a session so every `run` also hands the gate outputs to `onGates`. transformers.js ignores outputs it
 * does not know (it picks `logits` and `present.*` by name), so the extra gate outputs cost nothing there; the
 * wrapper is how a caller sees them during `generate()`, where the outputs never reach user code. The wrapper
 * inherits from the session, so `inputNames`, `outputNames`, `inputMetadata`, `config` and `constructor` read
 * through to it.
 */
export function tapGates(
  session: OrtSessionLike,
  gateOutputs: readonly string[],
  onGates: GateCallback,
): OrtSessionLike {
  const tapped = Object.create(session) as OrtSessionLike & { run: OrtSessionLike['run'] };
  tapped.run = async (feeds, ...rest) => {
    const out = await session.run(feeds, ...rest);
    const gates: GateOutputs = {};
    for (const name of gateOutputs) if (out[name]) gates[name] = out[name];
    onGates(gates);
    return out;
  };
  return tapped;
}
