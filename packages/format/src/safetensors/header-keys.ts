/**
 * The keys of the top-level object of a JSON text, in file order, duplicates included.
 *
 * `JSON.parse` keeps only the last of two equal keys, and reorders integer-like keys; a safetensors header with a
 * tensor named twice must be refused, and tensors should come back in file order, so we read the keys ourselves.
 * The text must already be known to be valid JSON whose top level is an object (this is not a validator).
 */
export function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      const end = stringEnd(text, i);
      if (depth === 1 && expectKey) {
        keys.push(JSON.parse(text.slice(i, end)) as string);
        expectKey = false;
      }
      i = end;
      continue;
    }
    if (c === '{' || c === '[') {
      depth += 1;
      if (depth === 1) expectKey = true;
    } else if (c === '}' || c === ']') {
      depth -= 1;
    } else if (c === ',' && depth === 1) {
      expectKey = true;
    }
    i += 1;
  }
  return keys;
}

/** Index just past the closing quote of the JSON string starting at `start`. */
function stringEnd(text: string, start: number): number {
  let j = start + 1;
  while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
  return j + 1;
}
