import { expect, test } from '@playwright/test';
import { ready, signIn, failOnPageErrors } from './helpers';

const EVERYONE = ['Overview', 'Runs', 'Lineage', 'Experiments', 'Fairness', 'Models & Approvals'];

const ROLES: { user: string; audit: boolean; admin: boolean }[] = [
  { user: 'viewer', audit: false, admin: false },
  { user: 'pm', audit: false, admin: false },
  { user: 'scientist', audit: false, admin: false },
  { user: 'reviewer', audit: false, admin: false },
  { user: 'auditor', audit: true, admin: false },
  { user: 'admin', audit: true, admin: true },
];

for (const r of ROLES) {
  test(`${r.user} sees the navigation of their role`, async ({ page }, testInfo) => {
    await signIn(page, testInfo, r.user);
    const nav = page.getByRole('navigation', { name: 'Main' });
    for (const label of EVERYONE) {
      await expect(nav.getByRole('link', { name: label, exact: true })).toBeVisible();
    }
    await expect(nav.getByRole('link', { name: 'Audit', exact: true })).toHaveCount(r.audit ? 1 : 0);
    await expect(nav.getByRole('link', { name: 'Admin', exact: true })).toHaveCount(r.admin ? 1 : 0);
    await expect(page.getByRole('heading', { name: 'Overview', level: 1 })).toBeVisible();
    await expect(page.getByText('Demo data')).toBeVisible();
  });
}

test('signed-out visitors are sent to sign-in and come back afterwards', async ({ page }, testInfo) => {
  failOnPageErrors(page);
  await page.goto('/fairness');
  await expect(page).toHaveURL(/\/login\?next=\/fairness/);
  await ready(page, testInfo);
  await expect(page.getByRole('heading', { name: 'Demo accounts' })).toBeVisible();
  await page.getByLabel('User name').fill('reviewer');
  await page.getByLabel('Password').fill('gatehouse-demo');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/fairness$/);
  await expect(page.getByRole('heading', { name: 'Fairness', level: 1 })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Upload predictions' })).toBeVisible();
});

test('a wrong password shows one generic message', async ({ page }, testInfo) => {
  failOnPageErrors(page);
  await page.goto('/login');
  await ready(page, testInfo);
  await page.getByLabel('User name').fill(`nobody-${testInfo.project.name}`);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText(/unknown user name or wrong password/);
});

test('signing out returns to the sign-in page', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'scientist');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login/);
  await expect(page.getByRole('heading', { name: 'Sign in to Gatehouse' })).toBeVisible();
  await page.goto('/runs');
  await expect(page).toHaveURL(/\/login\?next=\/runs/);
});

test('a forbidden page shows 403', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'viewer');
  const res = await page.goto('/admin');
  expect(res?.status()).toBe(403);
  await expect(page.getByRole('heading', { name: 'Forbidden' })).toBeVisible();
});

test('an unknown address shows 404', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'viewer');
  const res = await page.goto('/no-such-page');
  expect(res?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Not found' })).toBeVisible();
});

test('the sign-in page is sent without the wasm, and the page after it hydrates', async ({ page }, testInfo) => {
  failOnPageErrors(page);
  const scripts: string[] = [];
  page.on('request', (r) => {
    if (/\.(js|wasm)$/.test(new URL(r.url()).pathname)) scripts.push(r.url());
  });
  await page.goto('/login');
  await ready(page, testInfo);
  await expect(page.locator('body')).toHaveAttribute('data-static', 'true');
  await page.waitForLoadState('networkidle');
  expect(scripts).toEqual([]);
  await page.getByLabel('User name').fill('viewer');
  await page.getByLabel('Password').fill('gatehouse-demo');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Overview', level: 1 })).toBeVisible();
  await ready(page, testInfo);
  await expect(page.locator('body')).not.toHaveAttribute('data-static', 'true');
  if (testInfo.project.name === 'hydrated') expect(scripts.some((u) => u.endsWith('.wasm'))).toBe(true);
});
