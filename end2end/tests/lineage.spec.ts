import { expect, test } from '@playwright/test';
import { isHydrated, ready, signIn } from './helpers';

const FEATURES = 'dataset:s3://northwind-features:credit-applications-2026q3';
const BUILD = 'job:airflow://northwind:features.build_credit_features';

test('search a dataset, change depth, focus, open a node and show its blast radius', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'viewer');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Lineage', exact: true }).click();
  await page.getByLabel('Find a dataset, job or run').fill('credit-applications');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('link', { name: 'credit-applications-2026q3' }).first().click();
  await expect(page).toHaveURL(/node=dataset/);

  // The static graph: every node a link, the panel of the centre dataset with its schema.
  const graph = page.locator('figure.lineage-graph svg');
  await expect(graph).toBeVisible();
  await expect(page.locator(`a[data-node="${BUILD}"]`)).toHaveCount(1);
  await expect(page.locator('a[data-node="dataset:snowflake://northwind.eu-central-1:staging.applications_clean"]')).toHaveCount(1);
  const panel = page.getByRole('complementary');
  await expect(panel.getByRole('heading', { name: /credit-applications-2026q3/ })).toBeVisible();
  await expect(panel.getByRole('link', { name: 'zip3_default_rate' })).toBeVisible();

  // Upstream depth 1 stops at the job that builds the table.
  await page.getByLabel('Upstream depth').selectOption('1');
  await page.getByRole('button', { name: 'Update graph' }).click();
  await expect(page).toHaveURL(/up=1/);
  await expect(page.locator(`a[data-node="${BUILD}"]`)).toHaveCount(1);
  await expect(page.locator('a[data-node="dataset:snowflake://northwind.eu-central-1:staging.applications_clean"]')).toHaveCount(0);
  await expect(page.getByText('+2 upstream')).toBeVisible();

  // Open the scoring job's panel from the graph.
  await page.locator('a[data-node="job:airflow://northwind:scoring.batch_score_credit"]').click();
  await expect(panel.getByRole('heading', { name: /scoring\.batch_score_credit/ })).toBeVisible();
  await expect(panel.getByText('Latest runs')).toBeVisible();

  // Focus on it: the training runs are not on its paths.
  await page.getByLabel('Focus: only paths through the selected node').check();
  await page.getByRole('button', { name: 'Update graph' }).click();
  await expect(page).toHaveURL(/focus=true/);
  await expect(page.locator('a[data-node^="run:"]')).toHaveCount(0);
  await expect(page.locator(`a[data-node="${FEATURES}"]`)).toHaveCount(1);

  // Blast radius of the feature table: a list, and the graph highlights.
  await page.locator(`a[data-node="${FEATURES}"]`).click();
  await panel.getByRole('link', { name: 'Show blast radius' }).click();
  await expect(panel.getByRole('heading', { name: /^Blast radius: \d+ downstream$/ })).toBeVisible();
  await expect(panel.getByRole('link', { name: 'ml.credit_scores' })).toBeVisible();
  await expect(panel.locator('.blast').getByRole('link', { name: 'credit-01', exact: true })).toBeVisible();
  await expect(page.locator('a.node.lit')).not.toHaveCount(0);
});

test('column lineage of a feature field', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'viewer');
  await page.goto(`/lineage?node=${encodeURIComponent(FEATURES)}`);
  await page.getByRole('complementary').getByRole('link', { name: 'zip3_default_rate' }).click();
  const panel = page.getByRole('complementary');
  await expect(panel.getByRole('heading', { name: /Column lineage of/ })).toBeVisible();
  await expect(panel.locator('.column-lineage li').first()).toContainText('zip3');
  await expect(panel.locator('.column-lineage')).toContainText('public.applications');
});

test('the graph zooms and pans once hydrated; without JavaScript the tools stay hidden', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'viewer');
  await page.goto(`/lineage?node=${encodeURIComponent(FEATURES)}`);
  await ready(page, testInfo);
  const svg = page.locator('figure.lineage-graph svg');
  const initial = (await svg.getAttribute('viewBox')) ?? '';
  expect(initial).toMatch(/^-24\.0 -24\.0 \d/);
  const zoomIn = page.getByRole('button', { name: 'Zoom in' });
  if (isHydrated(testInfo)) {
    await zoomIn.click();
    await expect(svg).not.toHaveAttribute('viewBox', initial);
    await page.getByRole('button', { name: 'Reset view' }).click();
    await expect(svg).toHaveAttribute('viewBox', initial);
    const box = await svg.boundingBox();
    if (!box) throw new Error('the graph has no box');
    await page.mouse.move(box.x + box.width / 2, box.y + 20);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 - 80, box.y + 40, { steps: 4 });
    await page.mouse.up();
    await expect(svg).not.toHaveAttribute('viewBox', initial);
  } else {
    await expect(zoomIn).toBeHidden();
    // The nodes are plain links.
    await page.locator(`a[data-node="${BUILD}"]`).click();
    await expect(page).toHaveURL(/selected=job/);
  }
});
