import type { GenerationResult } from '../model/generate.js';
import { el } from './dom.js';

/**
 * Shows a generation: the text (continuation highlighted) and one chip per token with its id. The ids also go
 * into `data-prompt-ids` / `data-token-ids` (new tokens) so tests compare them with the goldens.
 */
export function renderOutput(
  host: HTMLElement,
  result: GenerationResult,
  adapterOn: boolean,
  /** A line shown above the text, e.g. that the bundled model's weights are random. */
  note?: string,
): void {
  host.dataset['promptIds'] = JSON.stringify(result.promptIds);
  host.dataset['tokenIds'] = JSON.stringify(result.newIds);
  host.dataset['adapter'] = adapterOn ? 'on' : 'off';
  const promptText = result.text.slice(0, Math.max(0, result.text.length - result.continuation.length));
  const text = el('div', 'output-text');
  text.append(promptText, el('span', 'continuation', result.continuation));
  const meta = el(
    'p',
    'muted',
    `${result.newIds.length} new tokens in ${result.elapsedMs.toFixed(0)} ms · adapter ${adapterOn ? 'on' : 'off'}`,
  );
  const tokens = el('div', 'tokens');
  const ids = [...result.promptIds, ...result.newIds];
  ids.forEach((id, i) => {
    const chip = el('span', i >= result.promptIds.length ? 'token new' : 'token', result.tokenTexts[i] ?? '');
    chip.append(el('small', '', String(id)));
    chip.title = `token ${i}: id ${id}`;
    tokens.append(chip);
  });
  host.replaceChildren(...(note ? [el('p', 'weights-note', note)] : []), text, meta, tokens);
}
