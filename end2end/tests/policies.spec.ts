import { expect, test } from '@playwright/test';
import { signIn } from './helpers';

test('an admin saves a promotion policy; a wrong line is named and nothing is stored', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'admin', '/promotions/policies?scope=model:credit-default');
  const text = page.getByRole('textbox', { name: 'Policy (TOML)' });
  await text.fill('protected_aliases = ["production"]\n[approvals]\nmedium = 0\n');
  await page.getByRole('button', { name: 'Save policy' }).click();
  await expect(page.getByRole('alert')).toContainText('line 3');

  await page.getByRole('textbox', { name: 'Policy (TOML)' }).fill('protected_aliases = ["production"]\n[approvals]\nmedium = 2\n[[metrics]]\nname = "auc"\nmin = 0.75\n');
  await page.getByRole('button', { name: 'Save policy' }).click();
  await expect(page.getByRole('heading', { name: /^model:credit-default — version \d+ by admin/ })).toBeVisible();
});

test('anyone can ask what an alias served at a given time', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'viewer', '/models/credit-default');
  const form = page.getByRole('form', { name: 'What an alias served at a time' });
  await form.getByLabel('Alias').selectOption('production');
  await form.getByLabel('At (UTC)').fill('2100-01-01');
  await form.getByRole('button', { name: 'Look up' }).click();
  await expect(page.getByRole('status').filter({ hasText: "'production' served version 2" })).toBeVisible();
  await form.getByLabel('At (UTC)').fill('2000-01-01');
  await form.getByRole('button', { name: 'Look up' }).click();
  await expect(page.getByRole('status').filter({ hasText: "'production' served no version" })).toBeVisible();
});
