// Cold first loads in Chromium: for each page, the bytes of JS, wasm and CSS transferred (the
// encoded, brotli size) and the time from navigation to the hydration marker. Targets: 300 KB
// for any page, 150 KB for the sign-in page. Each figure is appended to the bench table.
import { chromium } from '@playwright/test';
import { appendFileSync } from 'node:fs';

const base = process.env.GATEHOUSE_URL;
const table = process.env.BENCH_TABLE;
const PAGES = ['/login', '/', '/runs', '/lineage', '/experiments', '/fairness', '/models', '/promotions', '/audit'];
const RUNS = 3;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});

async function signedIn() {
  const context = await browser.newContext({ baseURL: base });
  const res = await context.request.post('/api/sign_in', {
    form: { username: 'reviewer', password: 'gatehouse-demo' },
    headers: { Origin: base, Accept: 'application/json' },
  });
  if (!res.ok()) throw new Error(`sign-in failed: ${res.status()}`);
  return context;
}

function record(figure, target, measured, unit) {
  const verdict = target === null ? '—' : measured <= target ? 'pass' : 'FAIL';
  const t = target === null ? '—' : `≤ ${target} ${unit}`;
  const row = `${figure}\t${t}\t${measured} ${unit}\t${verdict}\n`;
  if (table) appendFileSync(table, row);
  return verdict;
}

console.log('page                 JS+wasm+CSS (brotli)   raw wasm     to hydrated, or loaded when static (median of 3)');
for (const path of PAGES) {
  let bytes = 0;
  let raw = 0;
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    // A fresh context each time: nothing cached.
    const context = path === '/login' ? await browser.newContext({ baseURL: base }) : await signedIn();
    const page = await context.newPage();
    const sizes = [];
    page.on('requestfinished', async (req) => {
      const url = new URL(req.url());
      if (!/\.(js|wasm|css)$/.test(url.pathname)) return;
      const s = await req.sizes();
      const resp = await req.response();
      const length = Number((await resp?.allHeaders())?.['content-length'] ?? 0);
      sizes.push({ wire: s.responseBodySize || length, raw: url.pathname.endsWith('.wasm') ? (await resp.body()).length : 0 });
    });
    const start = Date.now();
    await page.goto(path, { waitUntil: 'commit' });
    // The sign-in page is sent without the wasm (body[data-static]): it is ready once loaded.
    await page.waitForSelector('body[data-hydrated="true"], body[data-static="true"]', { timeout: 60_000 });
    times.push(Date.now() - start);
    await page.waitForLoadState('networkidle');
    bytes = sizes.reduce((a, s) => a + s.wire, 0);
    raw = sizes.reduce((a, s) => a + s.raw, 0);
    await context.close();
  }
  times.sort((a, b) => a - b);
  const kb = Math.round(bytes / 1024);
  const target = path === '/login' ? 150 : 300;
  const verdict = record(`first load ${path}: JS + wasm + CSS on the wire (brotli)`, target, kb, 'KB');
  record(`first load ${path}: time to hydrated, median`, null, times[1], 'ms');
  console.log(`${path.padEnd(20)} ${String(kb).padStart(6)} KB (${verdict})      ${String(Math.round(raw / 1024)).padStart(6)} KB   ${times[1]} ms`);
}
await browser.close();
