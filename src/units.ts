/**
 * Quantities as people read them, for messages and reports alike: neither an
 * engine nor a presentation file, so that both may import it.
 */

/** 1536 -> `1.50 KB` (powers of 1024). */
export function humanBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (bytes >= 1024 && i < units.length - 1) [bytes, i] = [bytes / 1024, i + 1];
  return `${i === 0 ? bytes : bytes.toFixed(2)} ${units[i]}`;
}

/** `2G`, `1.5GB`, `512M`, `64k`, `1000` (bytes) -> bytes (powers of 1024, as humanBytes); undefined when it is not a size. */
export function parseBytes(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*$/i.exec(text);
  if (!m) return undefined;
  const bytes = Math.floor(Number(m[1]) * 1024 ** ' kmgt'.indexOf(m[2].toLowerCase() || ' '));
  return bytes > 0 && Number.isSafeInteger(bytes) ? bytes : undefined;
}
