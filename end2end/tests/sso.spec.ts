import { Browser, expect, Page, TestInfo, test } from '@playwright/test';
import { failOnPageErrors, isHydrated, ready, signIn } from './helpers';

// Single sign-on through a real OpenID Connect provider (end2end/oidc/provider.mjs, started by
// run.sh): its people and groups are in end2end/oidc/accounts.json, and the server maps
// `ml-reviewers` to reviewer and `staff` to viewer.

async function newPage(browser: Browser, testInfo: TestInfo): Promise<Page> {
  const context = await browser.newContext({
    baseURL: testInfo.project.use.baseURL,
    javaScriptEnabled: isHydrated(testInfo),
  });
  const page = await context.newPage();
  failOnPageErrors(page);
  return page;
}

/** Through Gatehouse's sign-in page to the provider's own login and consent pages, and back. */
async function throughProvider(page: Page, testInfo: TestInfo, login: string, next: string) {
  await page.goto(`/login?next=${encodeURIComponent(next)}`);
  await ready(page, testInfo);
  await page.getByRole('link', { name: 'Sign in with Test IdP' }).click();
  await expect(page).toHaveURL(/\/interaction\//);
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password will do');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
}

async function ssoSignIn(browser: Browser, testInfo: TestInfo, login: string, next: string): Promise<Page> {
  const page = await newPage(browser, testInfo);
  await throughProvider(page, testInfo, login, next);
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
  await expect(page.locator('.who .username')).toHaveText(login);
  await expect(page).toHaveURL(new RegExp(next + '$'));
  await ready(page, testInfo);
  return page;
}

function checkRow(page: Page, label: RegExp) {
  return page.getByRole('row').filter({ has: page.getByRole('cell', { name: label }) });
}

test.setTimeout(90_000);

test('someone whose group maps to reviewer signs in through the provider and approves; someone without it cannot', async ({ browser }, testInfo) => {
  const alias = isHydrated(testInfo) ? 'sso-pilot' : 'sso-pilot-plain';
  const scientist = await newPage(browser, testInfo);
  await signIn(scientist, testInfo, 'scientist', '/models/churn-prediction');
  const promote = scientist.getByRole('region', { name: 'Request a promotion' });
  await promote.getByRole('combobox', { name: 'Version' }).selectOption('2');
  await promote.getByRole('combobox', { name: 'Alias' }).fill(alias);
  await promote.getByRole('textbox', { name: 'Justification' }).fill('Reviewed through single sign-on.');
  await promote.getByRole('button', { name: 'Request promotion' }).click();
  await expect(scientist.getByRole('heading', { level: 1 })).toContainText(`churn-prediction@2 → ${alias}`);
  const requestPath = new URL(scientist.url()).pathname;

  // sam is in `staff` only: a viewer, who may read the request but not review it.
  const sam = await ssoSignIn(browser, testInfo, 'sam', requestPath);
  await expect(sam.getByRole('heading', { level: 1 })).toContainText(alias);
  await expect(sam.getByRole('button', { name: 'Submit review' })).toHaveCount(0);
  await expect(sam.getByText('Approving needs the reviewer role.')).toBeVisible();

  // rita is in `ml-reviewers`: she waives the failing check and approves.
  const rita = await ssoSignIn(browser, testInfo, 'rita', requestPath);
  await rita.getByRole('combobox', { name: 'Check' }).selectOption('fairness');
  await rita.getByRole('textbox', { name: /Reason/ }).fill('Accepted for the pilot, tracked in RISK-2026-40.');
  await rita.getByRole('button', { name: 'Waive check' }).click();
  await expect(checkRow(rita, /Fairness report passes/)).toContainText('waived');
  await rita.getByRole('radio', { name: 'Approve' }).check();
  await rita.getByRole('textbox', { name: 'Comment' }).fill('Approved by a reviewer of the identity provider.');
  await rita.getByRole('button', { name: 'Submit review' }).click();
  await expect(rita.getByText('1 of 2 approvals')).toBeVisible();
});

test('someone whose groups grant no role is told why on the sign-in page', async ({ browser }, testInfo) => {
  const page = await newPage(browser, testInfo);
  await throughProvider(page, testInfo, 'olga', '/models');
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole('alert')).toContainText('none of your groups (contractors) grants a role');
  await expect(page.getByRole('button', { name: 'Sign out' })).toHaveCount(0);
  // Shown once: a reload is a clean sign-in page.
  await page.reload();
  await expect(page.getByRole('alert')).toHaveCount(0);
});

test('an admin sees the provider and its groups, and turns password sign-in off and on', async ({ browser }, testInfo) => {
  const admin = await newPage(browser, testInfo);
  await signIn(admin, testInfo, 'admin', '/admin');
  const section = admin.getByRole('region', { name: 'Sign-in' });
  await expect(section).toContainText('Test IdP');
  await expect(checkRow(admin, /ml-reviewers/)).toContainText('reviewer');
  await expect(checkRow(admin, /staff/)).toContainText('viewer');
  await expect(section).toContainText('Password sign-in is on');
  await section.getByRole('button', { name: 'Turn password sign-in off' }).click();
  await expect(section).toContainText('Password sign-in is off');
  try {
    const visitor = await newPage(browser, testInfo);
    await visitor.goto('/login');
    await expect(visitor.getByText('Sign-in with a password is turned off here.')).toBeVisible();
    await expect(visitor.getByLabel('Password')).toHaveCount(0);
    await expect(visitor.getByRole('link', { name: 'Sign in with Test IdP' })).toBeVisible();
  } finally {
    await section.getByRole('button', { name: 'Turn password sign-in on' }).click();
    await expect(section).toContainText('Password sign-in is on');
  }
});
