// Structure-aware JSON: documents shaped like the ones we read (a seed's keys and nesting) with hostile values
// put in: wrong types, huge or non-integer numbers, deep nesting, odd unicode, `__proto__` keys, duplicate keys.
// fast-check draws the values; the writer below is hand-written because JSON.stringify cannot emit a duplicate
// key, a number literal such as 1e309 or 2^53 + 1 as written, or an invalid surrogate escape.
import fc from 'fast-check';
import { BOUNDARY_NUMBER_TEXTS } from './mutate.js';

/** A JSON tree whose leaves may be raw text (emitted as is) and whose objects may repeat a key. */
export type JsonNode =
  | null
  | boolean
  | number
  | string
  | { raw: string }
  | { array: JsonNode[] }
  | { entries: Array<[string, JsonNode]> };

/** Writes a {@link JsonNode} as JSON text. Iterative, so a 100,000-deep document does not overflow the stack. */
export function writeJson(node: JsonNode): string {
  const out: string[] = [];
  const stack: Array<JsonNode | { close: string } | { comma: true } | { key: string }> = [node];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (n === null || typeof n !== 'object') {
      out.push(JSON.stringify(n) ?? 'null');
    } else if ('close' in n) out.push(n.close);
    else if ('comma' in n) out.push(',');
    else if ('key' in n) out.push(`${JSON.stringify(n.key)}:`);
    else if ('raw' in n) out.push(n.raw);
    else if ('array' in n) {
      out.push('[');
      stack.push({ close: ']' });
      for (let i = n.array.length - 1; i >= 0; i--) {
        stack.push(n.array[i]!);
        if (i > 0) stack.push({ comma: true });
      }
    } else {
      out.push('{');
      stack.push({ close: '}' });
      for (let i = n.entries.length - 1; i >= 0; i--) {
        stack.push(n.entries[i]![1], { key: n.entries[i]![0] });
        if (i > 0) stack.push({ comma: true });
      }
    }
  }
  return out.join('');
}

/** A plain JSON value as a {@link JsonNode}. */
export function toNode(value: unknown): JsonNode {
  if (value === null || typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string')
    return value;
  if (Array.isArray(value)) return { array: value.map(toNode) };
  if (typeof value === 'object') return { entries: Object.entries(value).map(([k, v]) => [k, toNode(v)]) };
  return null;
}

/** `[[[…]]]` or `{"a":{"a":…}}` this deep: deeper than JSON.stringify / recursive walkers can follow. */
const deepNode = fc
  .record({ depth: fc.constantFrom(64, 1000, 6000, 25_000), object: fc.boolean() })
  .map(({ depth, object }): JsonNode => {
    const raw = object
      ? '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)
      : '['.repeat(depth) + ']'.repeat(depth);
    return { raw };
  });

/** Strings that trip up text handling: lone surrogates, NUL, RTL marks, very long, path-like. */
const hostileString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom(
    '',
    ' ',
    '__proto__',
    'constructor',
    'toString',
    '../../etc/passwd',
    'a\\b',
    '\u0000',
    '\u202e',
    '\ufeff',
    'x'.repeat(100_000),
    '(a+)+$',
    '.*',
    '[',
    'NaN',
    '1e309',
  ),
  fc.constantFrom('"\\ud800"', '"\\udfff\\ud800"', '"\\u0000"').map((raw) => ({ raw }) as JsonNode),
);

/** Values of every JSON type, sized to break assumptions. */
export const hostileValue: fc.Arbitrary<JsonNode> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...BOUNDARY_NUMBER_TEXTS).map((raw): JsonNode => ({ raw })) },
  { weight: 2, arbitrary: hostileString as fc.Arbitrary<JsonNode> },
  { weight: 1, arbitrary: fc.constantFrom<JsonNode>(null, true, false, 0, -1, 1.5) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map(toNode) },
  {
    weight: 1,
    arbitrary: fc
      .array(fc.constantFrom(...BOUNDARY_NUMBER_TEXTS), { maxLength: 4 })
      .map((xs): JsonNode => ({ array: xs.map((raw) => ({ raw })) })),
  },
  { weight: 1, arbitrary: deepNode },
  {
    weight: 1,
    arbitrary: fc
      .array(
        fc.tuple(
          hostileString.filter((s) => typeof s === 'string'),
          fc.jsonValue({ maxDepth: 1 }),
        ),
        {
          maxLength: 4,
        },
      )
      .map((kv): JsonNode => ({ entries: kv.map(([k, v]) => [k as string, toNode(v)]) })),
  },
);

/** One edit of a document: replace, delete or duplicate the value at a path, or add a key. */
interface Edit {
  path: number[];
  kind: 'replace' | 'delete' | 'duplicate' | 'add';
  value: JsonNode;
  key: string;
}

const editArbitrary: fc.Arbitrary<Edit> = fc.record({
  path: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
  kind: fc.constantFrom('replace', 'replace', 'replace', 'delete', 'duplicate', 'add'),
  value: hostileValue,
  key: fc.oneof(fc.constantFrom('__proto__', 'constructor', '', 'x'), fc.string({ maxLength: 6 })),
});

function applyEdit(root: JsonNode, edit: Edit): JsonNode {
  // Walks down the path (indices modulo the children), stopping at a leaf; edits the last container reached.
  const go = (node: JsonNode, depth: number): JsonNode => {
    if (node === null || typeof node !== 'object' || 'raw' in node) return edit.value;
    const children = 'array' in node ? node.array.map((v) => ['', v] as [string, JsonNode]) : node.entries;
    if (children.length === 0 || depth >= edit.path.length) {
      if (edit.kind === 'add' || depth >= edit.path.length) return withChild(node, edit.key, edit.value);
      return edit.value;
    }
    const i = edit.path[depth]! % children.length;
    const child = children[i]!;
    const last = depth === edit.path.length - 1;
    let next: Array<[string, JsonNode]>;
    if (last && edit.kind === 'delete') next = children.filter((_, j) => j !== i);
    else if (last && edit.kind === 'duplicate')
      next = [...children.slice(0, i + 1), [child[0], edit.value], ...children.slice(i + 1)];
    else if (last && edit.kind === 'add') next = [...children, [edit.key, edit.value]];
    else next = children.map((c, j) => (j === i ? [c[0], last ? edit.value : go(c[1], depth + 1)] : c));
    return 'array' in node ? { array: next.map(([, v]) => v) } : { entries: next };
  };
  return go(root, 0);
}

function withChild(node: JsonNode, key: string, value: JsonNode): JsonNode {
  if (node !== null && typeof node === 'object' && 'array' in node) return { array: [...node.array, value] };
  if (node !== null && typeof node === 'object' && 'entries' in node)
    return { entries: [...node.entries, [key, value]] };
  return value;
}

/** Documents shaped like `seeds` (parsed JSON values), with 1–3 hostile edits. */
export function editedJson(seeds: readonly unknown[]): fc.Arbitrary<string> {
  const nodes = seeds.map(toNode);
  return fc
    .record({
      seed: fc.nat(nodes.length - 1),
      edits: fc.array(editArbitrary, { minLength: 1, maxLength: 3 }),
    })
    .map(({ seed, edits }) => writeJson(edits.reduce(applyEdit, nodes[seed]!)));
}

/** Whole documents of any shape: a hostile value, or arbitrary JSON (fast-check's own generator). */
export const anyJson: fc.Arbitrary<string> = fc.oneof(
  hostileValue.map(writeJson),
  fc.json({ maxDepth: 4 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
);
