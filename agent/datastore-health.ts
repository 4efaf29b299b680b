// The datastore's part of readiness: an agent whose datastore has been unreachable (or has
// refused it) for longer than the bound is not ready, with the reason, even though it keeps
// every route — a node routing from a picture that may be minutes old should be visible as
// such. Liveness is not affected: restarting the agent would not bring the datastore back.
import type { ContactState } from '../calico/datastore-contact.js';

/** Why the datastore makes the agent unready, or undefined while it is answering (or within the bound). */
export function datastoreUnhealthy(datastore: string, contact: ContactState | undefined, boundMs: number, now = Date.now()): string | undefined {
  if (contact?.failingSince === undefined) return undefined;
  const failingMs = now - contact.failingSince;
  if (failingMs <= boundMs) return undefined;
  const last = contact.lastContactAt === undefined ? 'never answered' : `last contact ${new Date(contact.lastContactAt).toISOString()}`;
  return `datastore ${datastore} failing for ${Math.round(failingMs / 1000)} s (${last}): ${contact.failure ?? 'no reason given'}`;
}
