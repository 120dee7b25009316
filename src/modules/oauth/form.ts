import { invalidRequest } from './oauth-response.js';

/**
 * The request's parameters, from an application/x-www-form-urlencoded body only (RFC 6749 §3.2).
 * RFC 6749 §3.1: a parameter sent more than once makes the request invalid; so does one sent
 * without a value, which is treated as omitted.
 */
export async function readForm(request: Request): Promise<Map<string, string>> {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw invalidRequest('The body must be application/x-www-form-urlencoded');
  }
  const params = new URLSearchParams(await request.text());
  const form = new Map<string, string>();
  const seen = new Set<string>();
  for (const [name, value] of params) {
    if (seen.has(name)) throw invalidRequest(`The parameter ${name} must be sent once`);
    seen.add(name);
    if (value !== '') form.set(name, value);
  }
  return form;
}

/** A parameter the request must have. */
export function required(form: ReadonlyMap<string, string>, name: string): string {
  const value = form.get(name);
  if (value === undefined) throw invalidRequest(`The parameter ${name} is required`);
  return value;
}
