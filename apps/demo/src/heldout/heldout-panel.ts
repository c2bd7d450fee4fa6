import type { WordNetRow } from '../data/wordnet-tasks.js';
import { firstLineAnswer } from '../data/wordnet-tasks.js';
import type { GateMatrix } from '../gates/gate-recorder.js';
import { renderHeatmap } from '../gates/heatmap.js';
import { byId, el } from '../ui/dom.js';

/** One greedy answer: the continuation and, with the adapter on, the router gates of its tokens. */
export interface HeldOutAnswer {
  text: string;
  gates: GateMatrix | null;
}

/** How the panel asks the page for an answer (the page attaches or detaches the adapter around it). */
export type AnswerFn = (prompt: string, withAdapter: boolean) => Promise<HeldOutAnswer>;

/** `#heldout[data-state]`: none (no held-out prompts for this model), base (base answers shown), adapter. */
type HeldOutState = 'none' | 'base' | 'adapter';

interface Row extends WordNetRow {
  base?: string;
  adapter?: string;
}

/** Mean gate row over a set of token rows. */
function meanRow(rows: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(rows[0]!.length);
  for (const r of rows) for (let i = 0; i < r.length; i++) out[i]! += r[i]! / rows.length;
  return out;
}

/**
 * Section 5: the held-out prompts of the loaded model's tasks, answered greedily by the base model and, after
 * training, with the trained adapter (changed answers highlighted, ✓ for a valid answer), and the router's mean
 * gate per task over those prompts' tokens as a heat-map (rows: tasks). The answers also go into
 * `#heldout[data-answers]` (JSON) for tests.
 */
export function setupHeldOutPanel(): {
  setRows(rows: readonly WordNetRow[]): void;
  answerWithBase(answer: AnswerFn): Promise<void>;
  answerWithAdapter(answer: AnswerFn): Promise<void>;
} {
  const host = byId('heldout', HTMLDivElement);
  const table = byId('heldout-table', HTMLTableElement);
  const taskHeatmap = byId('task-heatmap', HTMLDivElement);
  let rows: Row[] = [];

  const setState = (state: HeldOutState) => {
    host.dataset['state'] = state;
  };
  const cell = (text: string | undefined, row: Row, changed: boolean) => {
    if (text === undefined) return el('td', 'muted', '…');
    const answer = firstLineAnswer(text);
    const ok = row.answers.some((a) => firstLineAnswer(a) === answer) && answer !== '';
    const td = el('td', changed ? 'changed' : '', `${ok ? '✓ ' : ''}${JSON.stringify(answer)}`);
    td.title = JSON.stringify(text);
    return td;
  };
  const render = () => {
    host.dataset['answers'] = JSON.stringify(
      rows.map((r) => ({ task: r.task, prompt: r.prompt, base: r.base ?? null, adapter: r.adapter ?? null })),
    );
    table.tBodies[0]!.replaceChildren(
      ...rows.map((r) => {
        const tr = el('tr');
        const changed =
          r.base !== undefined &&
          r.adapter !== undefined &&
          firstLineAnswer(r.base) !== firstLineAnswer(r.adapter);
        tr.append(
          el('td', '', r.task),
          el('td', '', r.prompt),
          el('td', '', r.answers.slice(0, 3).join(', ')),
          cell(r.base, r, false),
          r.adapter === undefined ? el('td', 'muted', 'train to see') : cell(r.adapter, r, changed),
        );
        return tr;
      }),
    );
  };

  return {
    setRows(next) {
      rows = next.map((r) => ({ ...r }));
      setState('none');
      taskHeatmap.dataset['gates'] = '';
      taskHeatmap.replaceChildren(el('p', 'muted', 'Train an adapter to see its router per task.'));
      host.hidden = rows.length === 0;
      render();
    },
    async answerWithBase(answer) {
      for (const r of rows) {
        r.base = (await answer(r.prompt, false)).text;
        render();
      }
      if (rows.length > 0) setState('base');
    },
    async answerWithAdapter(answer) {
      const byTask = new Map<string, Float32Array[]>();
      let shape: GateMatrix | null = null;
      for (const r of rows) {
        const a = await answer(r.prompt, true);
        r.adapter = a.text;
        render();
        if (a.gates && a.gates.rows.length > 0) {
          shape = a.gates;
          const list = byTask.get(r.task) ?? [];
          list.push(meanRow(a.gates.rows));
          byTask.set(r.task, list);
        }
      }
      if (shape) {
        const tasks = [...byTask.keys()];
        renderHeatmap(taskHeatmap, {
          gates: {
            modules: shape.modules,
            experts: shape.experts,
            rows: tasks.map((t) => meanRow(byTask.get(t)!)),
          },
          rowLabels: tasks,
          firstGeneratedRow: tasks.length,
          rowKind: 'task',
        });
      }
      if (rows.length > 0) setState('adapter');
    },
  };
}
