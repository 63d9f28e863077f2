/**
 * Share links: the editor's source, the chosen model and the diagram options,
 * as JSON compressed with DEFLATE (fflate) into the URL fragment, base64url.
 * The fragment never leaves the browser (it is not sent with requests), so a
 * shared model is never uploaded anywhere.
 */
import { strFromU8, strToU8, unzlibSync, zlibSync } from 'fflate';
import type { DiagramChoice } from './protocol.js';

export interface SharedState {
  source: string;
  model?: string;
  diagram: DiagramChoice;
  /** The open panel. */
  panel: string;
}

/** Fragments start with this, so a link of a later format can be told apart. */
const PREFIX = 'v1.';

const toBase64Url = (bytes: Uint8Array): string => {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};

const fromBase64Url = (text: string): Uint8Array => {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error('it has characters that base64url does not use');
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
};

export function encodeState(state: SharedState): string {
  return PREFIX + toBase64Url(zlibSync(strToU8(JSON.stringify(state)), { level: 9 }));
}

/** The state in a fragment (without '#'); throws an Error saying what is wrong with the link. */
export function decodeState(fragment: string): SharedState {
  if (!fragment.startsWith(PREFIX)) throw new Error(`it does not start with '${PREFIX}'`);
  let json: string;
  try {
    json = strFromU8(unzlibSync(fromBase64Url(fragment.slice(PREFIX.length))));
  } catch (e) {
    throw new Error(`it is not compressed playground data (${e instanceof Error ? e.message : e}); was it cut short when copied?`);
  }
  let state: unknown;
  try {
    state = JSON.parse(json);
  } catch {
    throw new Error('its data is not JSON');
  }
  const s = state as Partial<SharedState>;
  if (typeof s !== 'object' || s === null || typeof s.source !== 'string' || typeof s.diagram !== 'object' || s.diagram === null)
    throw new Error('its data has no source or diagram options');
  return { source: s.source, model: typeof s.model === 'string' ? s.model : undefined, diagram: s.diagram, panel: typeof s.panel === 'string' ? s.panel : 'summary' };
}
