/**
 * Whether a module path is one PEFT would adapt for `target_modules`: a list entry matches the whole path or its
 * last dotted parts (`gate_proj` matches `model.layers.0.mlp.gate_proj`); a string is a regex that must match the
 * whole path (`re.fullmatch`). A pattern JS cannot compile (Python-only syntax) matches everything: we cannot judge it.
 */
export function moduleMatchesTargets(module: string, targets: readonly string[] | string): boolean {
  if (typeof targets === 'string') {
    let pattern: RegExp;
    try {
      pattern = new RegExp(`^(?:${targets})$`);
    } catch {
      return true;
    }
    return pattern.test(module);
  }
  return targets.some((t) => module === t || module.endsWith(`.${t}`));
}

/** The last dotted part of each module path, deduplicated, in first-seen order (`q_proj`, `v_proj`). */
export function moduleSuffixes(modules: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const m of modules) out.add(m.slice(m.lastIndexOf('.') + 1));
  return [...out];
}
