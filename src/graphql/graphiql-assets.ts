import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { Plugin } from 'graphql-yoga';

/**
 * GraphiQL as a small page plus separate, immutable, precompressed assets. Yoga's
 * renderGraphiQL inlines its whole ~9 MB bundle into every page, which Chromium took 6–8 s to
 * parse even on loopback; split out, the assets are fetched in parallel, compressed, and
 * cached for good. Everything comes from this server: no CDN, so GraphiQL works offline. What
 * the assets are is the bundle's business (src/graphql/graphiql-bundle.ts).
 */

export const GRAPHIQL_ASSET_PREFIX = '/graphiql/assets/';

type Encoding = 'br' | 'gzip';

export interface Asset {
  readonly path: string;
  readonly hash: string;
  readonly contentType: string;
  readonly body: Buffer;
}

const compressBrotli = promisify(brotliCompress);
const compressGzip = promisify(gzip);

export function asset(body: Buffer, extension: string, contentType: string): Asset {
  const hash = createHash('sha256').update(body).digest('base64url').slice(0, 22);
  return { path: `${GRAPHIQL_ASSET_PREFIX}${hash}.${extension}`, hash, contentType, body };
}

export const JS = 'text/javascript; charset=utf-8';
export const CSS = 'text/css; charset=utf-8';

/** What a GraphiQL page is made of; the page's options are a JSON block with id graphiql-options. */
export interface GraphiQLBundle {
  /** Style sheets, in order. */
  readonly styles: readonly Asset[];
  /** Scripts, run in order (`defer`) once the page is parsed. */
  readonly scripts: readonly Asset[];
  /** Assets the page does not name but its scripts load (workers). */
  readonly others?: readonly Asset[];
  readonly favicon?: Asset;
  /** The page's Content-Security-Policy. */
  readonly csp: string;
}

/** br if the client takes it, else gzip, else none; q=0 refuses, and `*` stands for the rest. */
export function chooseEncoding(acceptEncoding: string | null): Encoding | undefined {
  const weights = new Map<string, number>();
  for (const part of (acceptEncoding ?? '').split(',')) {
    const [name, ...parameters] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const q = parameters.map((p) => p.trim().match(/^q=([\d.]+)$/)?.[1]).find(Boolean);
    weights.set(name, q === undefined ? 1 : Number(q));
  }
  const accepts = (name: Encoding) => (weights.get(name) ?? weights.get('*') ?? 0) > 0;
  if (accepts('br')) return 'br';
  if (accepts('gzip')) return 'gzip';
  return undefined;
}

/** A view, not a copy: Response's types take no Buffer. */
const bytes = (buffer: Buffer) =>
  new Uint8Array(buffer.buffer as ArrayBuffer, buffer.byteOffset, buffer.byteLength);

function escapeHtml(text: string) {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface GraphiQLAssets {
  /** The page: a few hundred bytes of HTML naming the assets (Yoga's `renderGraphiQL`). */
  render(options?: { title?: string }): string;
  /** One route per asset path; any other path under the prefix falls through to a 404. */
  readonly routes: Record<string, (request: Request) => Promise<Response>>;
  /** Puts the page's Content-Security-Policy on Yoga's GraphiQL response at `graphqlPath`. */
  pageHeaders(graphqlPath: string): Plugin;
}

/**
 * Hashes at start-up (~20 ms); compresses each asset once, on first demand, off the event loop
 * (zlib's thread pool). Brotli quality 5: quality 11 takes ~30 s for the app script and saves
 * only a further 13 %.
 */
export function createGraphiQLAssets(bundle: GraphiQLBundle): GraphiQLAssets {
  const { styles, scripts, others = [], favicon, csp } = bundle;
  const compressed = new Map<string, Promise<Buffer>>();
  const encode = (item: Asset, encoding: Encoding) => {
    const key = `${item.path} ${encoding}`;
    let body = compressed.get(key);
    if (!body) {
      body =
        encoding === 'br'
          ? compressBrotli(item.body, {
              params: {
                [constants.BROTLI_PARAM_QUALITY]: 5,
                [constants.BROTLI_PARAM_SIZE_HINT]: item.body.length,
              },
            })
          : compressGzip(item.body);
      compressed.set(key, body);
    }
    return body;
  };

  const serve = async (item: Asset, request: Request) => {
    const encoding = chooseEncoding(request.headers.get('accept-encoding'));
    // Each encoding is its own representation, so its own validator.
    const etag = `"${item.hash}${encoding ? `-${encoding}` : ''}"`;
    const headers: Record<string, string> = {
      'content-type': item.contentType,
      'cache-control': 'public, max-age=31536000, immutable',
      etag,
      vary: 'Accept-Encoding',
      'x-content-type-options': 'nosniff',
    };
    const ifNoneMatch = request.headers.get('if-none-match');
    if (ifNoneMatch?.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag)) {
      return new Response(null, { status: 304, headers });
    }
    if (!encoding) return new Response(bytes(item.body), { headers });
    return new Response(bytes(await encode(item, encoding)), {
      headers: { ...headers, 'content-encoding': encoding },
    });
  };

  const all = [...styles, ...scripts, ...others, ...(favicon ? [favicon] : [])];
  const routes = Object.fromEntries(
    all.map((item) => [item.path, (request: Request) => serve(item, request)]),
  );

  return {
    routes,
    pageHeaders: (graphqlPath) => ({
      onResponse({ request, response }) {
        const isPage = response.headers.get('content-type')?.startsWith('text/html');
        if (isPage && new URL(request.url).pathname === graphqlPath) {
          response.headers.set('content-security-policy', csp);
          response.headers.set('x-content-type-options', 'nosniff');
        }
      },
    }),
    render: (options) => `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${escapeHtml(options?.title || 'Yoga GraphiQL')}</title>
    <link rel="icon" href="${favicon ? favicon.path : 'data:,'}" />
    ${styles.map((style) => `<link rel="stylesheet" href="${style.path}" />`).join('\n    ')}
    ${scripts.map((script) => `<script src="${script.path}" defer></script>`).join('\n    ')}
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>You need to enable JavaScript to run this app.</noscript>
    <div id="root"></div>
    <script type="application/json" id="graphiql-options">${JSON.stringify(options ?? {}).replace(/</g, '\\u003c')}</script>
  </body>
</html>
`,
  };
}
