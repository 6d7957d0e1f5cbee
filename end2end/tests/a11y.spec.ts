import AxeBuilder from '@axe-core/playwright';
import { Browser, expect, Page, test, TestInfo } from '@playwright/test';
import { isHydrated, ready, signIn } from './helpers';

// The pages each role opens from the navigation, checked by axe-core against WCAG 2.1 A and
// AA and its best practices. axe runs in the page, so the JavaScript-disabled project checks
// the server-rendered page with the app's own script replaced by an empty module: the same
// markup a browser without JavaScript shows.
const PAGES: [string, string][] = [
  ['admin', '/'],
  ['scientist', '/runs'],
  ['scientist', '/lineage'],
  ['pm', '/experiments'],
  ['reviewer', '/fairness'],
  ['reviewer', '/models'],
  ['reviewer', '/promotions'],
  ['auditor', '/audit'],
  ['admin', '/admin'],
  ['scientist', '/account'],
  ['scientist', '/login'],
];

async function pageFor(browser: Browser, testInfo: TestInfo): Promise<Page> {
  const context = await browser.newContext({ baseURL: testInfo.project.use.baseURL, javaScriptEnabled: true });
  if (!isHydrated(testInfo)) {
    await context.route('**/pkg/*.js', (route) =>
      route.fulfill({
        contentType: 'text/javascript',
        body: 'export default async function init() {}\nexport function hydrate() {}\n',
      }),
    );
    await context.route('**/pkg/*.wasm', (route) => route.fulfill({ status: 404, body: '' }));
  }
  return context.newPage();
}

test('no axe-core violations on the pages people open', async ({ browser }, testInfo) => {
  test.setTimeout(120_000);
  const found: string[] = [];
  for (const [user, path] of PAGES) {
    const page = await pageFor(browser, testInfo);
    if (path === '/login') {
      await page.goto(path);
    } else {
      await signIn(page, testInfo, user, path);
      await page.goto(path);
    }
    await ready(page, testInfo);
    const result = await new AxeBuilder({ page })
      .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'])
      .analyze();
    for (const v of result.violations) {
      found.push(`${path}: ${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
    }
    await page.context().close();
  }
  expect(found).toEqual([]);
});
