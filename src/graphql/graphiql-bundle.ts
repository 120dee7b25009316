import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { asset, CSS, JS, type GraphiQLBundle } from './graphiql-assets.js';

/**
 * GraphiQL 4's prebuilt UMD build (CodeMirror 5 editors, history and docs explorer plugins,
 * graphql-js and the fetcher inside) on React 18's UMD builds, served as they ship in their
 * npm packages: ~1.2 MB of script against the 5.3 MB of Yoga's GraphiQL 5 with Monaco, which
 * Chromium needed most of the first load to compile (docs/benchmarks.md, section 6).
 */
const require = createRequire(import.meta.url);
/** A file of a package, whether or not its `exports` name it (the UMD builds are not). */
const file = (pkg: string, path: string) =>
  readFileSync(join(dirname(require.resolve(`${pkg}/package.json`)), path));

/**
 * Starts GraphiQL with Yoga's options from the page's JSON block. The endpoint is the page's
 * own path: Yoga serves GraphiQL at the GraphQL endpoint. The fetcher POSTs JSON with
 * same-origin credentials, as Yoga's own GraphiQL does, so the CSRF rules
 * (src/http/csrf-prevention.ts) let it through.
 */
const START = `(function () {
  'use strict';
  var options = JSON.parse(document.getElementById('graphiql-options').textContent);
  var fetcher = GraphiQL.createFetcher({
    url: location.origin + location.pathname,
    headers: options.additionalHeaders,
  });
  var props = {
    fetcher: fetcher,
    defaultQuery: options.defaultQuery,
    defaultTabs: options.defaultTabs,
    headers: options.headers,
    defaultHeaders: options.defaultHeaders,
    shouldPersistHeaders: options.shouldPersistHeaders,
    maxHistoryLength: options.maxHistoryLength,
    inputValueDeprecation: options.inputValueDeprecation,
    schemaDescription: options.schemaDescription,
    introspectionQueryName: options.introspectionQueryName,
  };
  for (var key in props) if (props[key] === undefined) delete props[key];
  ReactDOM.createRoot(document.getElementById('root')).render(
    React.createElement(GraphiQL, props),
  );
})();
`;

/** GraphiQL fills its container; the page gives it the whole window. */
const PAGE_CSS = 'html, body, #root { height: 100%; margin: 0; }\n';

/**
 * Only this server's scripts run, and nothing is evaluated from strings: no 'unsafe-eval'.
 * Styles need 'unsafe-inline': the dialogs (settings, short keys) add a <style> element whose
 * text varies, so no hash fits it. Fonts and icons are data: URLs in the style sheet.
 */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self' data:",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function graphiqlBundle(): GraphiQLBundle {
  return {
    styles: [
      asset(
        Buffer.concat([file('graphiql', 'graphiql.min.css'), Buffer.from(PAGE_CSS)]),
        'css',
        CSS,
      ),
    ],
    scripts: [
      asset(file('react', 'umd/react.production.min.js'), 'js', JS),
      asset(file('react-dom', 'umd/react-dom.production.min.js'), 'js', JS),
      asset(file('graphiql', 'graphiql.min.js'), 'js', JS),
      asset(Buffer.from(START), 'js', JS),
    ],
    csp: CSP,
  };
}
