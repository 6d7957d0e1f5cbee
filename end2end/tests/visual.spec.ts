import { expect, Locator, Page, test, TestInfo } from '@playwright/test';
import { join } from 'node:path';
import { ready, signIn } from './helpers';

// Layout breakage shows up as a failing test: the pages people open first, as they look at
// 1440 × 900, compared with the committed baselines (visual.spec.ts-snapshots/) with a small
// tolerance. Refresh the baselines after an intended change with
// `npx playwright test tests/visual.spec.ts --update-snapshots` and review the images.
//
// run.sh runs this spec first, alone, on the fresh demo workspace; refresh the baselines the same
// way (a fresh `--demo` server, this spec only). What changes from one demo workspace to the
// next is blanked out at a fixed width: times
// (the demo is seeded when the server starts), and run ids, hashes and digests (random).
const VOLATILE = join(__dirname, 'visual.css');

const SHOTS: [string, string, string][] = [
  ['home-viewer', 'viewer', '/'],
  ['home-pm', 'pm', '/'],
  ['home-scientist', 'scientist', '/'],
  ['home-reviewer', 'reviewer', '/'],
  ['home-auditor', 'auditor', '/'],
  ['home-admin', 'admin', '/'],
  ['lineage', 'viewer', `/lineage?node=${encodeURIComponent('dataset:s3://northwind-features:credit-applications-2026q3')}`],
  ['promotion-request', 'reviewer', '/promotions?status=pending'],
];

/** Opens the first link the locator finds by its address, then waits for the page's islands. */
async function open(page: Page, testInfo: TestInfo, link: Locator) {
  const href = await link.getAttribute('href');
  expect(href).toBeTruthy();
  await page.goto(href!);
  await ready(page, testInfo);
}

async function shot(page: Page, name: string) {
  // stylePath applies without JavaScript too (the no-js project's pages run no script).
  await expect(page).toHaveScreenshot(`${name}.png`, { maxDiffPixelRatio: 0.01, animations: 'disabled', stylePath: VOLATILE });
}

for (const [name, user, path] of SHOTS) {
  test(`looks as it did: ${name}`, async ({ page }, testInfo) => {
    await page.setViewportSize({ width: 1440, height: 900 });
    await signIn(page, testInfo, user, path);
    await page.goto(path);
    await ready(page, testInfo);
    if (name === 'promotion-request') {
      // The pending request itself.
      await open(page, testInfo, page.locator('main a[href^="/promotions/"]').filter({ hasText: '#' }).first());
    }
    await shot(page, name);
  });
}

test('looks as it did: an A/B test and a fairness report', async ({ page }, testInfo) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  await signIn(page, testInfo, 'pm', '/experiments');
  await open(page, testInfo, page.locator('main a[href^="/experiments/"]').first());
  await shot(page, 'ab-test');
  await page.goto('/fairness');
  await open(page, testInfo, page.locator('main a[href^="/fairness/"]').first());
  await shot(page, 'fairness-report');
});
