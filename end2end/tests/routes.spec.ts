import AxeBuilder from '@axe-core/playwright';
import { Browser, expect, Page, test, TestInfo } from '@playwright/test';
import { isHydrated, ready, signIn } from './helpers';

// The pages each role opens from the navigation, checked by axe-core against WCAG 2.1 A and
// AA and its best practices. axe runs inside a page, so without JavaScript it checks a copy:
// the page as served to the JavaScript-disabled browser, scripts removed, shown at the same
// address (so the stylesheet applies) in a page where axe itself may run.
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

/** The page to run axe in: the page itself when hydrated, else a script-free copy of it. */
async function axePage(browser: Browser, page: Page, testInfo: TestInfo): Promise<Page> {
  if (isHydrated(testInfo)) return page;
  const html = (await page.content()).replace(/<script\b[\s\S]*?<\/script>/gi, '');
  const context = await browser.newContext({ javaScriptEnabled: true });
  const url = page.url();
  await context.route(url, (route) => route.fulfill({ contentType: 'text/html', body: html }));
  const copy = await context.newPage();
  await copy.goto(url);
  return copy;
}

test('no axe-core violations on the pages people open', async ({ browser }, testInfo) => {
  test.setTimeout(120_000);
  const found: string[] = [];
  for (const [user, path] of PAGES) {
    const context = await browser.newContext({
      baseURL: testInfo.project.use.baseURL,
      javaScriptEnabled: isHydrated(testInfo),
    });
    const page = await context.newPage();
    if (path !== '/login') await signIn(page, testInfo, user, path);
    await page.goto(path);
    await ready(page, testInfo);
    const target = await axePage(browser, page, testInfo);
    const result = await new AxeBuilder({ page: target })
      .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'])
      .analyze();
    for (const v of result.violations) {
      found.push(`${path}: ${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
    }
    if (target !== page) await target.context().close();
    await context.close();
  }
  expect(found).toEqual([]);
});
