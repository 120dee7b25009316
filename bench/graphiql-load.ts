/**
 * npm run bench:graphiql — first load of GraphiQL in Chromium on loopback, cold cache,
 * interleaved in one run:
 * - old: Yoga's renderGraphiQL, GraphiQL 5 with Monaco, its ~9 MB bundle inline in the page;
 * - monaco: the same bundle split into a small page and compressed assets under
 *   /graphiql/assets/ (src/graphql/graphiql-assets.ts with bench/graphiql-monaco-bundle.ts);
 * - new: what the server serves, GraphiQL 4's UMD build on React 18 (CodeMirror 5, no workers),
 *   through the same asset machinery (src/graphql/graphiql-bundle.ts).
 * All are Yoga with the project's schema and examples, without a database: only the page's
 * delivery and start-up differ. Time is from navigation to the query editor showing the example
 * operations, each run in a fresh browser context (empty cache); the asset servers compress
 * their assets once, before the first timed run, as a long-running server has. BENCH_RUNS
 * (default 7), CHROMIUM_PATH (default /usr/bin/chromium).
 */
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { chromium, type Browser } from 'playwright-core';
import { createYoga, type Plugin } from 'graphql-yoga';
import { GRAPHIQL_EXAMPLES } from '../src/graphql/graphiql.js';
import { createGraphiQLAssets, type GraphiQLBundle } from '../src/graphql/graphiql-assets.js';
import { graphiqlBundle } from '../src/graphql/graphiql-bundle.js';
import { schema } from '../src/graphql/schema.js';
import { monacoBundle } from './graphiql-monaco-bundle.js';
import { median } from './report.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const TARGET_MS = 1500;

async function listen(render: (options: object) => string, routes: Plugin[]) {
  const yoga = createYoga({
    schema,
    graphiql: GRAPHIQL_EXAMPLES,
    renderGraphiQL: render,
    plugins: routes,
    logging: false,
  });
  const server = createServer(yoga);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function assetServer(bundle: GraphiQLBundle) {
  const assets = createGraphiQLAssets(bundle);
  const routes: Plugin = {
    onRequest({ url, request, endResponse }) {
      const route = assets.routes[url.pathname];
      if (route) return route(request).then(endResponse);
    },
  };
  return listen(assets.render, [routes]);
}

/** Milliseconds to the editor showing the examples, and the requests that left the server. */
async function load(browser: Browser, url: string) {
  const context = await browser.newContext();
  const outside: string[] = [];
  const sizes: Promise<number>[] = [];
  context.on('request', (request) => {
    // blob: URLs of the server's own origin are in memory (the old page's workers).
    const target = request.url().replace(/^blob:/, '');
    if (!target.startsWith(`${url}/`) && !target.startsWith('data:')) outside.push(target);
  });
  context.on('requestfinished', (request) => {
    sizes.push(
      request.sizes().then(
        (size) => size.responseBodySize,
        () => 0,
      ),
    );
  });
  const page = await context.newPage();
  page.setDefaultTimeout(120_000);
  const start = performance.now();
  await page.goto(`${url}/graphql`, { waitUntil: 'commit' });
  await page.locator('.graphiql-container').first().waitFor();
  const container = performance.now() - start;
  // Monaco's lines or CodeMirror 5's: both draw only the visible ones.
  await page.waitForFunction(() =>
    document
      .querySelector('.graphiql-query-editor :is(.view-lines, .CodeMirror-code)')
      ?.textContent?.includes('SignUp'),
  );
  const ms = performance.now() - start;
  const bytes = (await Promise.all(sizes)).reduce((sum, size) => sum + size, 0);
  await context.close();
  return { ms, container, outside, bytes };
}

const VARIANTS = ['old', 'monaco', 'new'] as const;
type Variant = (typeof VARIANTS)[number];

async function main() {
  const urls = {} as Record<Variant, string>;
  const servers: Server[] = [];
  for (const [name, started] of [
    ['old', listen(renderGraphiQL, [])],
    ['monaco', assetServer(monacoBundle())],
    ['new', assetServer(graphiqlBundle())],
  ] as const) {
    const { server, url } = await started;
    servers.push(server);
    urls[name] = url;
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  try {
    const outside: string[] = [];
    for (const name of VARIANTS) {
      const first = await load(browser, urls[name]); // compresses the assets, once
      console.log(`${name}, first load of a fresh server: ${first.ms.toFixed(0)} ms`);
      outside.push(...first.outside);
    }
    const times = { old: [], monaco: [], new: [] } as Record<Variant, number[]>;
    const containers = { old: [], monaco: [], new: [] } as Record<Variant, number[]>;
    const sizes = { old: 0, monaco: 0, new: 0 } as Record<Variant, number>;
    for (let run = 0; run < RUNS; run++) {
      for (const name of VARIANTS) {
        const result = await load(browser, urls[name]);
        times[name].push(result.ms);
        containers[name].push(result.container);
        sizes[name] = result.bytes;
        outside.push(...result.outside);
      }
    }
    for (const name of VARIANTS) {
      const sorted = [...times[name]].sort((a, b) => a - b);
      console.log(
        `${name}: median ${median(sorted).toFixed(0)} ms, min ${sorted[0]!.toFixed(0)}, max ${sorted.at(-1)!.toFixed(0)} ` +
          `over ${RUNS} cold loads (.graphiql-container visible: median ${median(containers[name]).toFixed(0)} ms);` +
          ` ${(sizes[name] / 1e6).toFixed(2)} MB of bodies on the wire by then`,
      );
    }
    const [load1, load5, load15] = loadavg().map((value) => value.toFixed(2));
    console.log(`load average after the run: ${load1} ${load5} ${load15} (${cpus().length} cores)`);
    console.log(`requests outside the server: ${outside.length}`, outside.slice(0, 5));
    const met = median(times.new) < TARGET_MS && outside.length === 0;
    console.log(
      `target: new median under ${TARGET_MS} ms, no outside request: ${met ? 'met' : 'NOT met'}`,
    );
  } finally {
    await browser.close();
    for (const server of servers) server.close();
  }
}

await main();
