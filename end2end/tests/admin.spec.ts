import { expect, test } from '@playwright/test';
import { signIn } from './helpers';

test('a user creates their own token on the account page, sees it once, and revokes it', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'scientist');
  await page.getByRole('link', { name: 'scientist', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Your account' })).toBeVisible();
  const label = `e2e-${testInfo.project.name}-${Date.now()}`;
  await page.getByLabel('Label').fill(label);
  await page.getByLabel('Expires').selectOption('30');
  await page.getByRole('button', { name: 'Create token' }).click();
  const secret = page.getByLabel('New API token');
  await expect(secret).toHaveText(/^gh_[A-Za-z0-9_-]{40,}$/);

  const row = page.getByRole('row').filter({ hasText: label });
  await expect(row).toBeVisible();
  // Columns: #, label, prefix, created, expires, last used, status.
  await expect(row.getByRole('cell').nth(4)).toHaveText(/^\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} UTC$/);
  await row.getByRole('button', { name: `Revoke token ${label}` }).click();
  await expect(page.getByRole('row').filter({ hasText: label })).toContainText('revoked');

  // The secret is not shown again.
  await page.goto('/account');
  await expect(page.getByLabel('New API token')).toHaveCount(0);
});

test('the admin page lists every token to revoke, and creates none for anyone else', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'admin');
  await page.goto('/admin');
  await expect(page.getByRole('heading', { name: 'Administration' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'API tokens' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Create token' })).toHaveCount(0);
  await expect(page.getByLabel('For user')).toHaveCount(0);
});

test('an admin creates a user who can then sign in', async ({ page, browser }, testInfo) => {
  await signIn(page, testInfo, 'admin');
  await page.goto('/admin');
  const name = `dana-${testInfo.project.name}-${Date.now() % 100000}`;
  await page.getByLabel('User name').fill(name);
  await page.getByLabel('Initial password (at least 12 characters)').fill('a very good passphrase');
  await page.locator('#nu-scientist').check();
  await page.getByRole('button', { name: 'Create user' }).click();
  await expect(page.getByRole('row').filter({ hasText: name })).toContainText('scientist');

  const other = await browser.newContext({ javaScriptEnabled: testInfo.project.use.javaScriptEnabled });
  const p2 = await other.newPage();
  await p2.goto('/login');
  await p2.getByLabel('User name').fill(name);
  await p2.getByLabel('Password').fill('a very good passphrase');
  await p2.getByRole('button', { name: 'Sign in' }).click();
  await expect(p2.locator('.who .username')).toHaveText(name);

  // Deactivated, the user's open session ends at once; reactivated, they sign in again.
  const row = page.getByRole('row').filter({ hasText: name });
  await row.getByRole('button', { name: `Deactivate ${name}` }).click();
  await expect(row).toContainText('(deactivated)');
  await p2.goto('/account');
  await expect(p2).toHaveURL(/\/login/);
  await row.getByRole('button', { name: `Reactivate ${name}` }).click();
  await expect(row).not.toContainText('(deactivated)');
  await p2.getByLabel('User name').fill(name);
  await p2.getByLabel('Password').fill('a very good passphrase');
  await p2.getByRole('button', { name: 'Sign in' }).click();
  await expect(p2.locator('.who .username')).toHaveText(name);
  await other.close();
});
