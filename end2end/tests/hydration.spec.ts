import { expect, test } from '@playwright/test';
import { isHydrated, signIn } from './helpers';

test('the theme switch works once hydrated and the page stands without JavaScript', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'viewer');
  const toggle = page.getByRole('button', { name: /theme/i });
  if (isHydrated(testInfo)) {
    await expect(toggle).toBeEnabled();
    const before = await toggle.getAttribute('aria-pressed');
    await toggle.click();
    const after = before === 'true' ? 'light' : 'dark';
    await expect(page.locator('html')).toHaveAttribute('data-theme', after);
    await expect(toggle).toHaveAttribute('aria-pressed', after === 'dark' ? 'true' : 'false');
    // The next page keeps the choice (pages are server-rendered; the theme is applied before
    // first paint from local storage).
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Models & Approvals', exact: true }).click();
    await expect(page.getByRole('heading', { name: 'Models & Approvals', level: 1 })).toBeVisible();
    await expect(page.getByRole('link', { name: 'credit-default' })).toBeVisible();
    await expect(page.locator('html')).toHaveAttribute('data-theme', after);
  } else {
    // Without JavaScript the switch cannot work, so it is disabled rather than broken.
    await expect(toggle).toBeDisabled();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Models & Approvals', exact: true }).click();
    await expect(page.getByRole('link', { name: 'credit-default' })).toBeVisible();
  }
});
