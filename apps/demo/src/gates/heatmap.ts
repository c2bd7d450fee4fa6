import { gateColor, gateGradientCss } from './color-scale.js';
import type { GateMatrix } from './gate-recorder.js';

const CELL_W = 18;
const CELL_H = 16;
const LABEL_W = 96;
const HEADER_H = 44;
const GROUP_GAP = 6;

/** What the heat-map shows: the gates plus a label per row. */
export interface HeatmapData {
  gates: GateMatrix;
  /** One label per gate row (the token that entered the model). */
  rowLabels: string[];
  /** Rows at and past this index are generated tokens (the rest belong to the prompt). */
  firstGeneratedRow: number;
  /** What a row is, for the legend and tooltip; default `token` (a generation's heat-map). */
  rowKind?: 'token' | 'task';
}

/** `model.layers.0.mlp.gate_proj` → `L0 gate`. */
export function shortModuleName(module: string): string {
  const layer = /layers\.(\d+)\./.exec(module)?.[1];
  const leaf =
    module
      .split('.')
      .at(-1)
      ?.replace(/_proj$/, '') ?? module;
  return layer === undefined ? leaf : `L${layer} ${leaf}`;
}

function columnX(m: number, i: number, experts: number): number {
  return LABEL_W + m * (experts * CELL_W + GROUP_GAP) + i * CELL_W;
}

/** Which cell a point on the canvas (CSS pixels) falls in, if any. */
function cellAt(
  data: HeatmapData,
  x: number,
  y: number,
): { row: number; module: number; expert: number } | null {
  const { modules, experts, rows } = data.gates;
  const row = Math.floor((y - HEADER_H) / CELL_H);
  if (row < 0 || row >= rows.length) return null;
  const groupW = experts * CELL_W + GROUP_GAP;
  const module = Math.floor((x - LABEL_W) / groupW);
  if (x < LABEL_W || module >= modules.length) return null;
  const expert = Math.floor((x - LABEL_W - module * groupW) / CELL_W);
  return expert >= 0 && expert < experts ? { row, module, expert } : null;
}

function draw(canvas: HTMLCanvasElement, data: HeatmapData): void {
  const { modules, experts, rows } = data.gates;
  const width = columnX(modules.length, 0, experts) - GROUP_GAP + 4;
  const height = HEADER_H + rows.length * CELL_H + 4;
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.ceil(width * dpr);
  canvas.height = Math.ceil(height * dpr);
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2D canvas context');
  ctx.scale(dpr, dpr);
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);
  ctx.font = '11px system-ui, sans-serif';
  ctx.textBaseline = 'middle';

  modules.forEach((module, m) => {
    const x0 = columnX(m, 0, experts);
    ctx.fillStyle = '#1f2937';
    ctx.textAlign = 'center';
    ctx.fillText(shortModuleName(module), x0 + (experts * CELL_W) / 2, 12);
    ctx.fillStyle = '#6b7280';
    for (let i = 0; i < experts; i++) ctx.fillText(String(i), x0 + i * CELL_W + CELL_W / 2, HEADER_H - 10);
  });

  rows.forEach((row, t) => {
    const y = HEADER_H + t * CELL_H;
    ctx.textAlign = 'right';
    ctx.fillStyle = t >= data.firstGeneratedRow ? '#1d4ed8' : '#374151';
    const label = data.rowLabels[t] ?? '';
    ctx.fillText(label.length > 12 ? `${label.slice(0, 11)}…` : label, LABEL_W - 8, y + CELL_H / 2);
    for (let m = 0; m < modules.length; m++) {
      for (let i = 0; i < experts; i++) {
        ctx.fillStyle = gateColor(row[m * experts + i]!);
        ctx.fillRect(columnX(m, i, experts), y, CELL_W - 1, CELL_H - 1);
      }
    }
  });
  if (data.firstGeneratedRow > 0 && data.firstGeneratedRow < rows.length) {
    const y = HEADER_H + data.firstGeneratedRow * CELL_H - 0.5;
    ctx.strokeStyle = '#1d4ed8';
    ctx.beginPath();
    ctx.moveTo(4, y);
    ctx.lineTo(width - 2, y);
    ctx.stroke();
  }
}

/**
 * Renders router gates as a heat-map (rows: tokens, columns: module × expert) into `host`, with a colour legend
 * and a tooltip per cell. The gates also go into `data-gates` (JSON) so tests can check them without pixels.
 */
export function renderHeatmap(host: HTMLElement, data: HeatmapData): void {
  host.replaceChildren();
  const { modules, experts, rows } = data.gates;
  host.dataset['gates'] = JSON.stringify({
    modules,
    experts,
    tokens: data.rowLabels,
    firstGeneratedRow: data.firstGeneratedRow,
    rows: rows.map((r) => Array.from(r)),
  });

  const legend = document.createElement('div');
  legend.className = 'heatmap-legend';
  const bar = document.createElement('span');
  bar.className = 'heatmap-legend-bar';
  bar.style.background = gateGradientCss();
  if (data.rowKind === 'task') {
    legend.append('gate 0', bar, '1', ' · rows: tasks (mean over their prompts’ tokens)');
  } else {
    legend.append('gate 0', bar, '1', ' · rows: tokens (');
    const generated = document.createElement('span');
    generated.className = 'generated-label';
    generated.textContent = 'blue';
    legend.append(generated, ' = generated)');
  }
  legend.append(' · columns: layer/module × expert · each module’s gates sum to 1');

  const frame = document.createElement('div');
  frame.className = 'heatmap-frame';
  const canvas = document.createElement('canvas');
  canvas.className = 'heatmap-canvas';
  canvas.setAttribute('role', 'img');
  canvas.setAttribute(
    'aria-label',
    `router gates: ${rows.length} ${data.rowKind === 'task' ? 'tasks' : 'tokens'} × ${modules.length} modules × ${experts} experts`,
  );
  const tooltip = document.createElement('div');
  tooltip.className = 'heatmap-tooltip';
  tooltip.hidden = true;
  frame.append(canvas, tooltip);
  host.append(legend, frame);
  draw(canvas, data);

  canvas.addEventListener('mousemove', (event) => {
    const rect = canvas.getBoundingClientRect();
    const cell = cellAt(data, event.clientX - rect.left, event.clientY - rect.top);
    if (!cell) {
      tooltip.hidden = true;
      return;
    }
    const value = rows[cell.row]![cell.module * experts + cell.expert]!;
    tooltip.textContent =
      `${data.rowKind ?? 'token'} ${cell.row} “${data.rowLabels[cell.row] ?? ''}” · ${modules[cell.module]} · ` +
      `expert ${cell.expert}: ${value.toFixed(4)}`;
    tooltip.style.left = `${event.clientX - rect.left + 12}px`;
    tooltip.style.top = `${event.clientY - rect.top + 12}px`;
    tooltip.hidden = false;
  });
  canvas.addEventListener('mouseleave', () => {
    tooltip.hidden = true;
  });
}
