import { Browser, expect, Page, TestInfo, test } from '@playwright/test';
import { isHydrated, ready, signIn } from './helpers';

/** A page in its own browser context, signed in as `user`, opened at `path`. */
async function as(browser: Browser, testInfo: TestInfo, user: string, path: string): Promise<Page> {
  const context = await browser.newContext({
    baseURL: testInfo.project.use.baseURL,
    javaScriptEnabled: isHydrated(testInfo),
  });
  const page = await context.newPage();
  await signIn(page, testInfo, user, path);
  await expect(page).toHaveURL(new RegExp(path.replace(/[?]/g, '\\?') + '$'));
  return page;
}

function checkRow(page: Page, label: RegExp) {
  return page.getByRole('row').filter({ has: page.getByRole('cell', { name: label }) });
}

test.setTimeout(90_000);

test('a scientist requests a promotion; a reviewer waives the failing check and approves, a second approves, the alias moves and the auditor finds every step', async ({ browser }, testInfo) => {
  // Each project moves its own alias of churn-prediction v2 (the demo serves neither).
  const alias = isHydrated(testInfo) ? 'production' : 'champion';

  const scientist = await as(browser, testInfo, 'scientist', '/models/churn-prediction');
  const promote = scientist.getByRole('region', { name: 'Request a promotion' });
  await promote.getByRole('combobox', { name: 'Version' }).selectOption('2');
  await promote.getByRole('combobox', { name: 'Alias' }).fill(alias);
  await promote.getByRole('textbox', { name: 'Justification' }).fill('Best AUC of the October sweep; retention offers need it.');
  await promote.getByRole('button', { name: 'Request promotion' }).click();
  await expect(scientist.getByRole('heading', { level: 1 })).toContainText(`churn-prediction@2 → ${alias}`);
  const requestPath = new URL(scientist.url()).pathname;
  expect(requestPath).toMatch(/^\/promotions\/\d+$/);
  const id = requestPath.split('/').pop();
  // The demo fairness report of churn v2 fails; the requester cannot approve their own request.
  await expect(checkRow(scientist, /Fairness report passes/)).toContainText('fail');
  await expect(scientist.getByRole('button', { name: 'Submit review' })).toHaveCount(0);
  await expect(scientist.getByText('Approving needs the reviewer role.')).toBeVisible();

  const reviewer = await as(browser, testInfo, 'reviewer', requestPath);
  await expect(checkRow(reviewer, /Fairness report passes/)).toContainText('fail');
  await reviewer.getByRole('combobox', { name: 'Check' }).selectOption('fairness');
  await reviewer.getByRole('textbox', { name: /Reason/ }).fill('Young-customer gap accepted for a 30-day pilot, tracked in RISK-2026-31.');
  await reviewer.getByRole('button', { name: 'Waive check' }).click();
  await expect(checkRow(reviewer, /Fairness report passes/)).toContainText('waived');
  await expect(reviewer.getByRole('note').filter({ hasText: '1 check waived' })).toContainText('RISK-2026-31');
  await reviewer.getByRole('radio', { name: 'Approve' }).check();
  await reviewer.getByRole('textbox', { name: 'Comment' }).fill('Pilot scope is clear; the waiver is recorded.');
  await reviewer.getByRole('button', { name: 'Submit review' }).click();
  await expect(reviewer.getByText('1 of 2 approvals')).toBeVisible();

  const second = await as(browser, testInfo, 'reviewer2', requestPath);
  await second.getByRole('radio', { name: 'Approve' }).check();
  await second.getByRole('textbox', { name: 'Comment' }).fill('Agreed.');
  await second.getByRole('button', { name: 'Submit review' }).click();
  await expect(second.locator('.lede .badge').first()).toHaveText('approved');

  await second.goto('/models/churn-prediction');
  await expect(second.getByRole('region', { name: 'Aliases' })).toContainText(`${alias} → version 2`);
  await expect(second.getByRole('region', { name: 'Alias history' })).toContainText(`request #${id}`);

  const auditor = await as(browser, testInfo, 'auditor', `/audit?object_type=promotion&object_id=${id}`);
  const table = auditor.getByRole('table');
  for (const action of ['promotion.request', 'promotion.waive', 'promotion.approve']) {
    await expect(table).toContainText(action);
  }
  await auditor.getByRole('link', { name: 'Verify chain' }).click();
  await expect(auditor.getByRole('status', { name: 'Chain verification' })).toContainText('Chain intact');
  await expect(auditor.getByRole('status', { name: 'Chain verification' })).toContainText('Ed25519 public key');
});

test('the reviewer queue lists the pending request with its age, and the page stays alive', async ({ browser }, testInfo) => {
  const reviewer = await as(browser, testInfo, 'reviewer', '/promotions');
  const errors: string[] = [];
  reviewer.on('pageerror', (e) => errors.push(e.message));
  await reviewer.reload();
  await ready(reviewer, testInfo);
  // The demo holds a pending request of credit-default v4.
  const row = reviewer.getByRole('row').filter({ hasText: 'credit-default@4' });
  await expect(row).toContainText('pending');
  await expect(row.getByRole('cell').nth(3)).toHaveText(/^(just now|\d+ (min|h|d) ago)$/);
  // The app still answers: switching tabs and opening the request work.
  await reviewer.getByRole('navigation', { name: 'Request status' }).getByRole('link', { name: 'all' }).click();
  await expect(reviewer).toHaveURL(/status=all/);
  await reviewer.getByRole('row').filter({ hasText: 'credit-default@4' }).first().getByRole('link').first().click();
  await expect(reviewer.getByRole('heading', { level: 1 })).toContainText('credit-default@4');
  expect(errors).toEqual([]);
});

test('"waiting for you" lists only what a reviewer may still review', async ({ browser }, testInfo) => {
  const reviewer = await as(browser, testInfo, 'reviewer2', '/promotions');
  const tabs = reviewer.getByRole('navigation', { name: 'Request status' });
  await tabs.getByRole('link', { name: 'waiting for you' }).click();
  await expect(reviewer).toHaveURL(/waiting=me/);
  await expect(tabs.getByRole('link', { name: 'waiting for you' })).toHaveAttribute('aria-current', 'page');
  await expect(tabs.getByRole('link', { name: 'pending', exact: true })).not.toHaveAttribute('aria-current', 'page');
  for (const row of await reviewer.locator('table.queue tbody tr').all()) {
    await expect(row.getByRole('cell').nth(2)).not.toHaveText('reviewer2');
    await expect(row).toContainText('pending');
  }
  // Someone who may not approve has nothing waiting.
  const viewer = await as(browser, testInfo, 'viewer', '/promotions?status=pending&waiting=me');
  await expect(viewer.getByRole('heading', { name: 'No requests here' })).toBeVisible();
});
