// A perceptually ordered scale (viridis stops) for gate values in [0, 1].
const STOPS: Array<[number, number, number]> = [
  [68, 1, 84],
  [72, 40, 120],
  [62, 74, 137],
  [49, 104, 142],
  [38, 130, 142],
  [31, 158, 137],
  [53, 183, 121],
  [109, 205, 89],
  [180, 222, 44],
  [253, 231, 37],
];

/** The colour of `value` (clamped to [0, 1]) as an `rgb()` string. */
export function gateColor(value: number): string {
  const v = Math.min(1, Math.max(0, Number.isFinite(value) ? value : 0)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(v));
  const f = v - i;
  const [a, b] = [STOPS[i]!, STOPS[i + 1]!];
  const mix = (k: 0 | 1 | 2) => Math.round(a[k] + (b[k] - a[k]) * f);
  return `rgb(${mix(0)}, ${mix(1)}, ${mix(2)})`;
}

/** A CSS linear-gradient of the scale, for the legend. */
export function gateGradientCss(): string {
  const parts = STOPS.map(
    ([r, g, b], i) => `rgb(${r}, ${g}, ${b}) ${((i / (STOPS.length - 1)) * 100).toFixed(1)}%`,
  );
  return `linear-gradient(to right, ${parts.join(', ')})`;
}
