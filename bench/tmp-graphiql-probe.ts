import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import { createYoga, type Plugin } from 'graphql-yoga';
import { GRAPHIQL_EXAMPLES } from '../src/graphql/graphiql.js';
import { createGraphiQLAssets } from '../src/graphql/graphiql-assets.js';
import { schema } from '../src/graphql/schema.js';

const assets = createGraphiQLAssets();
const routes: Plugin = {
  onRequest({ url, request, endResponse }) {
    const route = assets.routes[url.pathname];
    if (route) return route(request).then(endResponse);
    if (url.pathname === '/blank') return endResponse(new Response('<html><body><p id=x>hi</p></body></html>', { headers: { 'content-type': 'text/html' } }));
  },
};
const yoga = createYoga({ schema, graphiql: GRAPHIQL_EXAMPLES, renderGraphiQL: assets.render, plugins: [routes], logging: false });
const server = createServer(yoga);
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
for (let i = 0; i < 4; i++) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const t0 = performance.now();
  await page.goto(`${url}/blank`, { waitUntil: 'commit' });
  await page.locator('#x').waitFor();
  const blank = performance.now() - t0;
  await ctx.close();
  const ctx2 = await browser.newContext();
  const page2 = await ctx2.newPage();
  const cdp = await ctx2.newCDPSession(page2);
  await cdp.send('Performance.enable');
  const t1 = performance.now();
  await page2.goto(`${url}/graphql`, { waitUntil: 'commit' });
  await page2.locator('.graphiql-container').first().waitFor();
  const cont = performance.now() - t1;
  await page2.waitForFunction(() => document.querySelector('.graphiql-query-editor .view-lines')?.textContent?.includes('SignUp'));
  const ed = performance.now() - t1;
  const { metrics } = await cdp.send('Performance.getMetrics');
  const m = Object.fromEntries(metrics.map((x: { name: string; value: number }) => [x.name, x.value]));
  const nav = await page2.evaluate(() => JSON.stringify(performance.getEntriesByType('resource').map((e) => [e.name.slice(-12), Math.round(e.startTime), Math.round(e.responseEnd)])));
  console.log(`blank ${blank.toFixed(0)} container ${cont.toFixed(0)} editor ${ed.toFixed(0)} script ${(m.ScriptDuration * 1000).toFixed(0)} task ${(m.TaskDuration * 1000).toFixed(0)} layout ${(m.LayoutDuration * 1000).toFixed(0)} recalc ${(m.RecalcStyleDuration * 1000).toFixed(0)}`, nav);
  await ctx2.close();
}
await browser.close();
server.close();
