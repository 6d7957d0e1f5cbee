import AxeBuilder from '@axe-core/playwright';
import { Browser, expect, Page, test, TestInfo } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { axePage, DEMO_PASSWORD, isHydrated, ready } from './helpers';

// Every route of the app's route list (read from app/src/app.rs, so a new page cannot be
// forgotten here), opened with the demo data as each role: no page error, no console error,
// the status the role should get, and no axe-core violation of impact moderate or worse
// (WCAG 2.1 A and AA, best practices) on any page, hydrated and as served without JavaScript.

const ROLES = ['viewer', 'pm', 'scientist', 'reviewer', 'auditor', 'admin'];
/** Pages only some roles may open; the rest get 403. */
const ONLY: Record<string, string[]> = { '/audit': ['auditor', 'admin'], '/admin': ['admin'] };

function routePatterns(): string[] {
  const app = readFileSync(join(__dirname, '..', '..', 'app', 'src', 'app.rs'), 'utf8');
  return [...app.matchAll(/path!\("([^"]+)"\)/g)].map((m) => m[1]);
}

async function firstHref(page: Page, from: string, prefix: string): Promise<string> {
  await page.goto(from);
  const href = await page.locator(`main a[href^="${prefix}"]`).first().getAttribute('href');
  if (!href) throw new Error(`no link to ${prefix} on ${from}`);
  return href;
}

/** A concrete address with demo data for each route pattern. */
async function concreteRoutes(page: Page): Promise<Record<string, string>> {
  // The demo's credit-default experiment (other specs add experiments with a single run).
  await page.goto('/runs');
  const experiment = await page.locator('main a[href^="/runs/experiment/"]', { hasText: /^credit-default$/ }).first().getAttribute('href');
  if (!experiment) throw new Error('no credit-default experiment on /runs');
  const run = await firstHref(page, experiment, '/runs/run/');
  await page.goto(experiment);
  // Two different runs (a row may link its run more than once).
  const hrefs = await page.locator('main a[href^="/runs/run/"]').evaluateAll((as) =>
    as.map((a) => (a.getAttribute('href') ?? '').replace('/runs/run/', '')));
  const runs = [...new Set(hrefs)].slice(0, 2);
  if (runs.length < 2) throw new Error(`fewer than two runs on ${experiment}`);
  return {
    '/': '/',
    '/login': '/login',
    '/runs': '/runs',
    '/runs/experiment/:id': experiment,
    '/runs/run/:run_id': run,
    '/runs/compare': `/runs/compare?${runs.map((r) => `run=${r}`).join('&')}`,
    '/lineage': `/lineage?node=${encodeURIComponent('dataset:s3://northwind-features:credit-applications-2026q3')}`,
    '/experiments': '/experiments',
    '/experiments/:id': await firstHref(page, '/experiments', '/experiments/'),
    // A link nobody shared: the page says so (404) without breaking.
    '/shared/ab/:token': '/shared/ab/no-such-link',
    '/fairness': '/fairness',
    '/fairness/:id': await firstHref(page, '/fairness', '/fairness/'),
    '/models': '/models',
    '/models/:name': '/models/credit-default',
    '/models/:name/versions/:version': '/models/credit-default/versions/4',
    '/promotions': '/promotions',
    '/promotions/policies': '/promotions/policies',
    '/promotions/:id': await firstHref(page, '/promotions?status=all', '/promotions/'),
    '/audit': '/audit',
    '/admin': '/admin',
    '/account': '/account',
  };
}

async function signedInContext(browser: Browser, testInfo: TestInfo, user: string | null) {
  const context = await browser.newContext({
    baseURL: testInfo.project.use.baseURL,
    javaScriptEnabled: isHydrated(testInfo),
  });
  if (user) {
    const res = await context.request.post('/api/sign_in', {
      form: { username: user, password: DEMO_PASSWORD },
      headers: { Origin: new URL(testInfo.project.use.baseURL!).origin, Accept: 'application/json' },
    });
    expect(res.ok(), `${user} signs in`).toBe(true);
  }
  return context;
}

test('every route, as every role: the right status, no page or console error, no axe violation', async ({ browser }, testInfo) => {
  test.setTimeout(600_000);
  const admin = await signedInContext(browser, testInfo, 'admin');
  const routes = await concreteRoutes(await admin.newPage());
  await admin.close();
  const patterns = routePatterns();
  expect(patterns.length).toBeGreaterThan(15);
  expect(patterns.filter((p) => !(p in routes)), 'routes without an address here').toEqual([]);

  const problems: string[] = [];
  const axed = new Set<string>();
  for (const user of [null, ...ROLES]) {
    const context = await signedInContext(browser, testInfo, user);
    const page = await context.newPage();
    let errors: string[] = [];
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
    const paths = user ? patterns : ['/login'];
    for (const pattern of paths) {
      const path = routes[pattern];
      errors = [];
      const res = await page.goto(path);
      const status = res?.status() ?? 0;
      const expected = pattern === '/shared/ab/:token' ? 404
        : user && ONLY[pattern] && !ONLY[pattern].includes(user) ? 403 : 200;
      const who = `${user ?? 'signed out'} ${path}`;
      if (status !== expected) problems.push(`${who}: status ${status}, expected ${expected}`);
      if (expected === 200) await ready(page, testInfo);
      else await page.waitForLoadState('load');
      // The browser reports the expected error status of the page itself as a console error.
      const real = errors.filter((e) => !(expected !== 200 && e.includes(`status of ${expected}`)));
      problems.push(...real.map((e) => `${who}: ${e}`));
      if (expected !== 403 && !axed.has(pattern)) {
        axed.add(pattern);
        const target = await axePage(browser, page, testInfo);
        const result = await new AxeBuilder({ page: target })
          .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'])
          .analyze();
        for (const v of result.violations.filter((v) => v.impact !== 'minor')) {
          problems.push(`${who}: axe ${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
        }
        if (target !== page) await target.context().close();
      }
    }
    await context.close();
  }
  expect(problems).toEqual([]);
  expect(axed.size).toBe(patterns.length);
});
