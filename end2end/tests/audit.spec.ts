import { expect, test } from '@playwright/test';
import { signIn } from './helpers';

test('the audit page lists the sign-in and verifies the chain', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'auditor');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Audit trail' })).toBeVisible();
  const table = page.getByRole('table');
  const mine = table.getByRole('row').filter({ hasText: 'auth.sign_in' }).filter({ hasText: 'auditor' });
  await expect(mine.first()).toBeVisible();

  await page.getByLabel('Actor').fill('auditor');
  await page.getByLabel('Action').fill('auth.sign_in');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/actor=auditor/);
  const rows = page.getByRole('table').getByRole('row');
  await expect(rows.nth(1)).toContainText('auth.sign_in');
  for (const text of await rows.allInnerTexts()) {
    if (!text.startsWith('#')) expect(text).toContain('auditor');
  }

  await page.getByRole('link', { name: 'Verify chain' }).click();
  await expect(page.getByRole('status', { name: 'Chain verification' })).toContainText('Chain intact');
});
