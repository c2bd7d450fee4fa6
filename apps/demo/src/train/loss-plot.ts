/** One point of the loss curve. */
export interface LossPoint {
  step: number;
  loss: number;
}

/**
 * Draws the loss curve on a canvas: axes, ticks, the line and a dot per measured step. With no points it draws
 * the empty axes and `emptyText`, never a made-up curve. `totalSteps` fixes the x range while a run is live, so
 * the curve grows from left to right.
 */
export function drawLossPlot(
  canvas: HTMLCanvasElement,
  points: readonly LossPoint[],
  emptyText: string,
  totalSteps = 0,
): void {
  const width = canvas.clientWidth || 480;
  const height = canvas.clientHeight || 200;
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.ceil(width * dpr);
  canvas.height = Math.ceil(height * dpr);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2D canvas context');
  ctx.scale(dpr, dpr);
  ctx.clearRect(0, 0, width, height);
  const pad = { left: 44, right: 12, top: 12, bottom: 28 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  ctx.strokeStyle = '#9ca3af';
  ctx.lineWidth = 1;
  ctx.strokeRect(pad.left + 0.5, pad.top + 0.5, plotW, plotH);
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = '#6b7280';
  ctx.textAlign = 'center';
  ctx.fillText('step', pad.left + plotW / 2, height - 8);
  ctx.save();
  ctx.translate(12, pad.top + plotH / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText('loss', 0, 0);
  ctx.restore();
  if (points.length === 0) {
    ctx.fillText(emptyText, pad.left + plotW / 2, pad.top + plotH / 2);
    return;
  }
  const maxStep = Math.max(1, totalSteps, ...points.map((p) => p.step));
  const losses = points.map((p) => p.loss);
  let lo = Math.min(...losses);
  let hi = Math.max(...losses);
  if (hi - lo < 1e-6) [lo, hi] = [lo - 0.5, hi + 0.5];
  const x = (step: number) => pad.left + ((step - 1) / Math.max(1, maxStep - 1)) * plotW;
  const y = (loss: number) => pad.top + (1 - (loss - lo) / (hi - lo)) * plotH;
  ctx.textAlign = 'right';
  for (const v of [lo, (lo + hi) / 2, hi]) ctx.fillText(v.toFixed(2), pad.left - 4, y(v) + 3);
  ctx.textAlign = 'center';
  ctx.fillText('1', x(1), height - 16);
  ctx.fillText(String(maxStep), x(maxStep), height - 16);
  ctx.strokeStyle = '#2563eb';
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  points.forEach((p, i) => (i === 0 ? ctx.moveTo(x(p.step), y(p.loss)) : ctx.lineTo(x(p.step), y(p.loss))));
  ctx.stroke();
  ctx.fillStyle = '#2563eb';
  for (const p of points) {
    ctx.beginPath();
    ctx.arc(x(p.step), y(p.loss), 2.5, 0, 2 * Math.PI);
    ctx.fill();
  }
  const lastPoint = points.at(-1)!;
  ctx.fillStyle = '#111827';
  ctx.textAlign = 'right';
  ctx.fillText(`step ${lastPoint.step}: ${lastPoint.loss.toFixed(4)}`, pad.left + plotW - 4, pad.top + 12);
}
