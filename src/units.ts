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
