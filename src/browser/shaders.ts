// The WGSL sources in the browser: the same shaders/*.wgsl files, as strings.
const files = import.meta.glob('../../shaders/*.wgsl', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;

export function browserShaderFiles(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [path, text] of Object.entries(files)) out[path.slice(path.lastIndexOf('/') + 1)] = text;
  return out;
}
