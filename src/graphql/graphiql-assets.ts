import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import * as bundle from '@graphql-yoga/render-graphiql/graphiql';
import type { Plugin } from 'graphql-yoga';

/**
 * GraphiQL as a small page plus separate, immutable, precompressed assets. Yoga's
 * renderGraphiQL inlines the whole ~9 MB bundle (app, CSS, Monaco's workers, favicon) into
 * every page, which Chromium took 6–8 s to parse even on loopback; split out, the assets are
 * fetched in parallel, compressed, and cached for good. Everything still comes from this
 * server: no CDN, so GraphiQL works offline.
 */

export const GRAPHIQL_ASSET_PREFIX = '/graphiql/assets/';

type Encoding = 'br' | 'gzip';

interface Asset {
  readonly path: string;
  readonly hash: string;
  readonly contentType: string;
  readonly body: Buffer;
}

const compressBrotli = promisify(brotliCompress);
const compressGzip = promisify(gzip);

function asset(body: Buffer, extension: string, contentType: string): Asset {
  const hash = createHash('sha256').update(body).digest('base64url').slice(0, 22);
  return { path: `${GRAPHIQL_ASSET_PREFIX}${hash}.${extension}`, hash, contentType, body };
}

const JS = 'text/javascript; charset=utf-8';

/**
 * Monaco's workers load from their own URLs (the inline page made blob: URLs); the options
 * come from a JSON block in the page, so no asset depends on the request.
 */
function appScript(workers: Record<string, string>) {
  return `self.MonacoEnvironment = {
  globalAPI: false,
  getWorkerUrl: function (moduleId, label) { return ${JSON.stringify(workers)}[label]; },
};
${bundle.js};
YogaGraphiQL.renderYogaGraphiQL(
  document.querySelector('#root'),
  JSON.parse(document.querySelector('#graphiql-options').textContent),
);
`;
}

function buildAssets() {
  const editorWorkerService = asset(Buffer.from(bundle.editorWorkerService), 'js', JS);
  const json = asset(Buffer.from(bundle.jsonWorker), 'js', JS);
  const graphql = asset(Buffer.from(bundle.graphqlWorker), 'js', JS);
  const workers = {
    editorWorkerService: editorWorkerService.path,
    json: json.path,
    graphql: graphql.path,
  };
  const favicon = bundle.favicon.match(/^data:([^;,]+);base64,(.*)$/s);
  return {
    app: asset(Buffer.from(appScript(workers)), 'js', JS),
    css: asset(Buffer.from(bundle.css), 'css', 'text/css; charset=utf-8'),
    favicon: favicon
      ? asset(Buffer.from(favicon[2] ?? '', 'base64'), 'ico', favicon[1] ?? 'image/x-icon')
      : undefined,
    workers: [editorWorkerService, json, graphql],
  };
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

/**
 * The page runs only this server's scripts (its options are a JSON data block, which CSP does
 * not treat as script). Monaco sets inline styles, and its icon font is a data: URL in the CSS.
 */
const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "worker-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self' data:",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

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
export function createGraphiQLAssets(): GraphiQLAssets {
  const { app, css, favicon, workers } = buildAssets();
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

  const all = [app, css, ...workers, ...(favicon ? [favicon] : [])];
  const routes = Object.fromEntries(
    all.map((item) => [item.path, (request: Request) => serve(item, request)]),
  );

  return {
    routes,
    pageHeaders: (graphqlPath) => ({
      onResponse({ request, response }) {
        const isPage = response.headers.get('content-type')?.startsWith('text/html');
        if (isPage && new URL(request.url).pathname === graphqlPath) {
          response.headers.set('content-security-policy', PAGE_CSP);
          response.headers.set('x-content-type-options', 'nosniff');
        }
      },
    }),
    render: (options) => `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${escapeHtml(options?.title || 'Yoga GraphiQL')}</title>
    ${favicon ? `<link rel="icon" href="${favicon.path}" />` : ''}
    <link rel="stylesheet" href="${css.path}" />
    <script src="${app.path}" defer></script>
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
