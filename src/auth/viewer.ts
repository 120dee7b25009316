import type { Context, Viewer } from '../graphql/context.js';
import { notAuthenticated } from '../errors.js';

/** The signed-in viewer; guards run first, so this only fails if a guard was forgotten. */
export function signedInViewer(context: Context): Extract<Viewer, { kind: 'user' }> {
  if (context.viewer.kind !== 'user') throw notAuthenticated();
  return context.viewer;
}
