import { expect, test } from '@playwright/test';
import { isHydrated, ready, signIn } from './helpers';

test('read the verdict of the demo champion–challenger test, change the correction, record a decision', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'pm');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Experiments', exact: true }).click();
  const list = page.getByRole('table');
  await expect(list.getByRole('row', { name: /one-page checkout/ }).getByText('Ship')).toBeVisible();
  await expect(list.getByRole('row', { name: /recommendations carousel/ }).getByText('Invalid')).toBeVisible();
  await list.getByRole('link', { name: 'credit-default v4 challenger' }).click();
  await expect(page.getByRole('heading', { name: 'credit-default v4 challenger', level: 1 })).toBeVisible();

  const verdict = page.getByRole('status').filter({ hasText: 'Keep running' });
  await expect(verdict).toContainText(/Keep running: no goal is conclusive yet \(approved_and_repaid [+−]\d+\.\d% \(95% CI/);
  await expect(verdict).toContainText(/more units per variant are needed to find a 3\.0% effect; 14 days, [\d,]+ users\./);
  await expect(page.getByRole('cell', { name: 'challenger', exact: true }).first()).toBeVisible();
  await expect(page.getByRole('img', { name: /Forest plot/ })).toBeVisible();
  await expect(page.getByRole('img', { name: /Cumulative relative lift/ })).toBeVisible();
  await expect(page.getByText(/Sample ratio as intended: χ² = /)).toBeVisible();

  // The correction selector re-reads the same data.
  await expect(page.getByText('correction: Holm–Bonferroni')).toBeVisible();
  await page.getByLabel('Correction').selectOption('bh');
  await page.getByRole('button', { name: 'Apply', exact: true }).click();
  await expect(page).toHaveURL(/correction=bh/);
  await expect(page.getByText('correction: Benjamini–Hochberg')).toBeVisible();

  // The decision is recorded, shown and kept with the verdict it was taken on.
  const comment = `Extend two weeks for power (${testInfo.project.name})`;
  await page.getByRole('radio', { name: 'Extend' }).check();
  await page.getByLabel('Comment').fill(comment);
  await page.getByRole('button', { name: 'Record decision' }).click();
  const row = page.getByRole('row', { name: new RegExp(comment.replace(/[()]/g, '\\$&')) });
  await expect(row).toBeVisible();
  await expect(row).toContainText('extend');
  await expect(row).toContainText('Keep running:');
});

test('an invalid test says why, and a share link opens read-only without an account', async ({ page, browser }, testInfo) => {
  await signIn(page, testInfo, 'pm');
  await page.goto('/experiments');
  await page.getByRole('link', { name: 'recommendations carousel' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Invalid' })).toContainText(
    /Invalid: sample-ratio mismatch \(p = [\d.e-]+\), 'carousel' got \d+\.\d% of users against 50\.0% intended/,
  );
  await expect(page.getByText(/^Sample-ratio mismatch: χ² = /)).toBeVisible();

  await page.getByRole('button', { name: 'Create share link' }).click();
  const link = page.locator('a.share-url');
  await expect(link).toBeVisible();
  const url = (await link.getAttribute('href')) ?? '';
  expect(url).toMatch(/^\/shared\/ab\/[A-Za-z0-9_-]+$/);

  const anonymous = await browser.newContext({ javaScriptEnabled: isHydrated(testInfo) });
  const other = await anonymous.newPage();
  await other.goto(url);
  await ready(other, testInfo);
  await expect(other.getByRole('heading', { name: 'recommendations carousel', level: 1 })).toBeVisible();
  await expect(other.getByText('A read-only copy shared from Gatehouse.')).toBeVisible();
  await expect(other.getByRole('button', { name: 'Record decision' })).toHaveCount(0);
  await expect(other.getByRole('button', { name: 'Create share link' })).toHaveCount(0);
  await anonymous.close();
});
