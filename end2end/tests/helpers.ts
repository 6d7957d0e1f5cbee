import { Browser, expect, Page, TestInfo } from '@playwright/test';

export const DEMO_PASSWORD = 'gatehouse-demo';

export function isHydrated(testInfo: TestInfo): boolean {
  return testInfo.project.name === 'hydrated';
}

/** Fails the test on any uncaught page error (a broken wasm shows up here). */
export function failOnPageErrors(page: Page) {
  page.on('pageerror', (err) => {
    throw new Error(`page error: ${err.message}`);
  });
  // A script, style or connection the Content-Security-Policy blocked shows up only here.
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text())) {
      throw new Error(`blocked by the Content-Security-Policy: ${msg.text()}`);
    }
  });
}

/**
 * In the hydrated project, waits for the marker only the running wasm sets; pages the server
 * sends without the wasm (`data-static`, the sign-in page) must not hydrate in either project.
 */
export async function ready(page: Page, testInfo: TestInfo) {
  const staticPage = (await page.locator('body[data-static="true"]').count()) > 0;
  if (isHydrated(testInfo) && !staticPage) {
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  } else {
    await expect(page.locator('body')).not.toHaveAttribute('data-hydrated', 'true');
  }
}

export async function signIn(page: Page, testInfo: TestInfo, username: string, next = '/') {
  failOnPageErrors(page);
  await page.goto(next === '/' ? '/login' : `/login?next=${encodeURIComponent(next)}`);
  await ready(page, testInfo);
  await page.getByLabel('User name').fill(username);
  await page.getByLabel('Password').fill(DEMO_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
  await expect(page.locator('.who .username')).toHaveText(username);
  // The form posts as a plain form and the next page loads afresh: wait for it to hydrate.
  await ready(page, testInfo);
}

/** The page to run axe in: the page itself when hydrated, else a script-free copy of it (axe
 * runs inside a page, so without JavaScript it checks the page as served, scripts removed,
 * shown at the same address so the stylesheet applies, in a page where axe itself may run). */
export async function axePage(browser: Browser, page: Page, testInfo: TestInfo): Promise<Page> {
  if (isHydrated(testInfo)) return page;
  const html = (await page.content()).replace(/<script\b[\s\S]*?<\/script>/gi, '');
  const context = await browser.newContext({ javaScriptEnabled: true });
  const url = page.url();
  await context.route(url, (route) => route.fulfill({ contentType: 'text/html', body: html }));
  const copy = await context.newPage();
  await copy.goto(url);
  return copy;
}
