import { parseCookie, stringifySetCookie } from 'cookie';

/**
 * The browser's copy of the refresh token: HttpOnly (scripts never see it), SameSite=Strict and
 * Path=/ , Secure unless configured off for plain-http development. The default name carries the
 * __Host- prefix, which browsers only accept with Secure, Path=/ and no Domain.
 */
export interface RefreshCookie {
  readonly name: string;
  read(cookieHeader: string | null): string | undefined;
  set(token: string, maxAgeSeconds: number): string;
  clear(): string;
}

export function createRefreshCookie(options: { name: string; secure: boolean }): RefreshCookie {
  const attributes = {
    httpOnly: true,
    secure: options.secure,
    sameSite: 'strict' as const,
    path: '/',
  };
  return {
    name: options.name,
    read: (header) => (header ? parseCookie(header)[options.name] : undefined),
    set: (token, maxAge) =>
      stringifySetCookie({ name: options.name, value: token, maxAge, ...attributes }),
    clear: () =>
      stringifySetCookie({
        name: options.name,
        value: '',
        maxAge: 0,
        expires: new Date(0),
        ...attributes,
      }),
  };
}
