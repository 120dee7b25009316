/**
 * Yoga's GraphiQL 5 (Monaco) split into assets, as the server served it before GraphiQL 4's
 * UMD build (src/graphql/graphiql-bundle.ts): bench/graphiql-load.ts measures both.
 */
import * as yoga from '@graphql-yoga/render-graphiql/graphiql';
import { asset, CSS, JS, type GraphiQLBundle } from '../src/graphql/graphiql-assets.js';

/** Monaco's workers load from their own URLs; the options come from the page's JSON block. */
function appScript(workers: Record<string, string>) {
  return `self.MonacoEnvironment = {
  globalAPI: false,
  getWorkerUrl: function (moduleId, label) { return ${JSON.stringify(workers)}[label]; },
};
${yoga.js};
YogaGraphiQL.renderYogaGraphiQL(
  document.querySelector('#root'),
  JSON.parse(document.querySelector('#graphiql-options').textContent),
);
`;
}

export function monacoBundle(): GraphiQLBundle {
  const editorWorkerService = asset(Buffer.from(yoga.editorWorkerService), 'js', JS);
  const json = asset(Buffer.from(yoga.jsonWorker), 'js', JS);
  const graphql = asset(Buffer.from(yoga.graphqlWorker), 'js', JS);
  const workers = {
    editorWorkerService: editorWorkerService.path,
    json: json.path,
    graphql: graphql.path,
  };
  const favicon = yoga.favicon.match(/^data:([^;,]+);base64,(.*)$/s);
  return {
    styles: [asset(Buffer.from(yoga.css), 'css', CSS)],
    scripts: [asset(Buffer.from(appScript(workers)), 'js', JS)],
    others: [editorWorkerService, json, graphql],
    favicon: favicon
      ? asset(Buffer.from(favicon[2] ?? '', 'base64'), 'ico', favicon[1] ?? 'image/x-icon')
      : undefined,
    // Monaco sets inline styles, and its icon font is a data: URL in the CSS.
    csp: [
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
    ].join('; '),
  };
}
