// Two small SVG charts written by hand: the study needs one scatter plot and one heat map, and a plotting
// library (with a headless renderer) would be a large dependency for ~100 lines of markup.

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (v: number): string => (Math.round(v * 10) / 10).toString();

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

/** One series of the scatter plot: a method's runs, and its mean ± std drawn as a bar. */
export interface ScatterSeries {
  label: string;
  x: number;
  /** One y per seed. */
  ys: number[];
}

/**
 * Accuracy against trainable parameters: x on a log10 axis, y in % (0 to the largest value, rounded up to 10),
 * every run a small dot, each method's mean a larger one with a ±1 std bar, a legend on the right.
 */
export function scatterSvg(
  series: readonly ScatterSeries[],
  o: { title: string; xLabel: string; yLabel: string },
): string {
  if (series.length === 0) throw new Error('scatter plot of no series');
  const [w, h, left, right, top, bottom] = [720, 420, 70, 190, 40, 55];
  const xs = series.map((s) => Math.log10(s.x));
  const [x0, x1] = [Math.floor(Math.min(...xs)), Math.ceil(Math.max(...xs) + 1e-9)];
  const yMax = Math.max(10, Math.ceil((100 * Math.max(...series.flatMap((s) => s.ys))) / 10) * 10);
  const px = (x: number) => left + ((Math.log10(x) - x0) / Math.max(1e-9, x1 - x0)) * (w - left - right);
  const py = (y: number) => h - bottom - ((100 * y) / yMax) * (h - top - bottom);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="12">`,
    `<rect width="${w}" height="${h}" fill="white"/>`,
    `<text x="${w / 2}" y="22" text-anchor="middle" font-size="14">${esc(o.title)}</text>`,
  ];
  for (let e = x0; e <= x1; e++) {
    const x = left + ((e - x0) / Math.max(1, x1 - x0)) * (w - left - right);
    out.push(`<line x1="${num(x)}" y1="${top}" x2="${num(x)}" y2="${h - bottom}" stroke="#ddd"/>`);
    out.push(`<text x="${num(x)}" y="${h - bottom + 16}" text-anchor="middle">1e${e}</text>`);
  }
  for (let y = 0; y <= yMax; y += yMax / 5) {
    const yy = py(y / 100);
    out.push(`<line x1="${left}" y1="${num(yy)}" x2="${w - right}" y2="${num(yy)}" stroke="#ddd"/>`);
    out.push(`<text x="${left - 6}" y="${num(yy + 4)}" text-anchor="end">${num(y)}</text>`);
  }
  out.push(`<text x="${(left + w - right) / 2}" y="${h - 12}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  out.push(
    `<text transform="translate(18 ${(top + h - bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`,
  );
  series.forEach((s, i) => {
    const c = PALETTE[i % PALETTE.length]!;
    const mean = s.ys.reduce((a, b) => a + b, 0) / s.ys.length;
    const std =
      s.ys.length > 1 ? Math.sqrt(s.ys.reduce((a, v) => a + (v - mean) ** 2, 0) / (s.ys.length - 1)) : 0;
    const x = px(s.x);
    for (const y of s.ys)
      out.push(`<circle cx="${num(x)}" cy="${num(py(y))}" r="2.5" fill="${c}" opacity="0.5"/>`);
    out.push(
      `<line x1="${num(x)}" y1="${num(py(mean - std))}" x2="${num(x)}" y2="${num(py(mean + std))}" stroke="${c}" stroke-width="2"/>`,
    );
    out.push(`<circle cx="${num(x)}" cy="${num(py(mean))}" r="5" fill="${c}"/>`);
    const ly = top + 10 + i * 20;
    out.push(`<circle cx="${w - right + 20}" cy="${ly}" r="5" fill="${c}"/>`);
    out.push(`<text x="${w - right + 32}" y="${ly + 4}">${esc(s.label)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/**
 * A heat map of `values[row][col]` in [0, max]: white → dark blue, each cell labelled with its value (2 decimals),
 * row labels on the left, column labels on top.
 */
export function heatmapSvg(
  values: readonly (readonly number[])[],
  rowLabels: readonly string[],
  colLabels: readonly string[],
  o: { title: string; max?: number },
): string {
  if (values.length !== rowLabels.length || values.some((r) => r.length !== colLabels.length))
    throw new Error('heat map: values do not match the row and column labels');
  const [cell, left, top] = [54, 130, 60];
  const [w, h] = [left + cell * colLabels.length + 20, top + cell * rowLabels.length + 20];
  const max = o.max ?? Math.max(1e-12, ...values.flat());
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="12">`,
    `<rect width="${w}" height="${h}" fill="white"/>`,
    `<text x="${w / 2}" y="20" text-anchor="middle" font-size="14">${esc(o.title)}</text>`,
  ];
  colLabels.forEach((c, j) =>
    out.push(`<text x="${left + j * cell + cell / 2}" y="${top - 8}" text-anchor="middle">${esc(c)}</text>`),
  );
  values.forEach((row, i) => {
    const y = top + i * cell;
    out.push(`<text x="${left - 8}" y="${y + cell / 2 + 4}" text-anchor="end">${esc(rowLabels[i]!)}</text>`);
    row.forEach((v, j) => {
      const t = Math.min(1, Math.max(0, v / max));
      const [r, g, b] = [255 - t * (255 - 8), 255 - t * (255 - 48), 255 - t * (255 - 107)].map(Math.round);
      out.push(
        `<rect x="${left + j * cell}" y="${y}" width="${cell}" height="${cell}" fill="rgb(${r},${g},${b})" stroke="white"/>`,
      );
      out.push(
        `<text x="${left + j * cell + cell / 2}" y="${y + cell / 2 + 4}" text-anchor="middle" fill="${t > 0.55 ? 'white' : 'black'}">${v.toFixed(2)}</text>`,
      );
    });
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
