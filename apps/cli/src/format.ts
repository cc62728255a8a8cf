/** `1234567` → `'1,234,567'`. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** `1536` → `'1.5 KiB'`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** JSON of `value`, cut to `max` characters. */
export function formatJsonPreview(value: unknown, max = 100): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
