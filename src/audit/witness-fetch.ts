import { httpsOrLoopback } from '../config/index.js';
import { VigilError } from '../errors.js';

/**
 * Fetches the newest checkpoint a remote witness holds (`vigil verify --witness-url`): a GET that
 * answers JSON `{ "origin": "...", "size": N, "note": "..." }`, the shape the server POSTs to
 * `VIGIL_WITNESS_URL`. Only the note counts: the verifier checks its signature, origin and root.
 * Throws ERR_CONFIG for a URL that is neither https nor on loopback, ERR_INTEGRITY when the
 * witness cannot be read or answers something else.
 */
export async function fetchWitnessCheckpoint(url: string, timeoutMs = 5000): Promise<string> {
  // Plain HTTP off this machine would let anyone on the path answer with an older checkpoint.
  const u = httpsOrLoopback(url);
  if (u === undefined) throw new VigilError('ERR_CONFIG', '--witness-url must be an https URL (http only on loopback)');
  let body: unknown;
  try {
    const res = await fetch(u, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) throw new VigilError('ERR_INTEGRITY', `the witness answered ${res.status}`);
    body = await res.json();
  } catch (err) {
    throw new VigilError('ERR_INTEGRITY', 'the remote witness could not be read', { cause: err });
  }
  const note = (body as { note?: unknown } | null)?.note;
  if (typeof note !== 'string') throw new VigilError('ERR_INTEGRITY', 'the remote witness did not answer {origin, size, note}');
  return note;
}
