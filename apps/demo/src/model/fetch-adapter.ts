import { fetchAdapterFiles, parseAdapter, type Adapter } from '@mor/format';

/** Where an adapter comes from: a URL folder served with the page, or a Hub repository (online only). */
export type AdapterSource = { kind: 'url'; url: string } | { kind: 'hub'; repo: string };

/** `/path/`, `./path`, `http(s)://…` are folders to fetch; `owner/name` is a Hub repository. */
export function parseAdapterSource(text: string): AdapterSource {
  const value = text.trim();
  if (/^(\/|\.\.?\/|https?:\/\/)/.test(value))
    return { kind: 'url', url: value.endsWith('/') ? value : `${value}/` };
  return { kind: 'hub', repo: value };
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${response.statusText}`);
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * Fetches adapter_config.json + adapter_model.safetensors and parses them in the browser with `@mor/format`
 * (every header, shape and value check runs here, so a bad file fails before it reaches the graph).
 */
export async function fetchAdapter(source: AdapterSource): Promise<Adapter> {
  if (source.kind === 'hub') return (await fetchAdapterFiles({ repo: source.repo })).adapter;
  const base = new URL(source.url, location.href);
  const [config, weights] = await Promise.all([
    fetchBytes(new URL('adapter_config.json', base).href),
    fetchBytes(new URL('adapter_model.safetensors', base).href),
  ]);
  return parseAdapter(new TextDecoder().decode(config), weights, { dir: base.href.replace(/\/$/, '') });
}
