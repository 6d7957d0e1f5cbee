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
  await expect(panel.getByRole('heading', { name: /credit-applications-2026q3/ })).toBeVisible();
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

test('the graph reads at 100% zoom: whole names on hover, counts clear of the nodes, a panel that fits', async ({ page }, testInfo) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  await signIn(page, testInfo, 'viewer');
  await page.goto(`/lineage?node=${encodeURIComponent(FEATURES)}&up=2&down=2&selected=${encodeURIComponent('job:airflow://northwind:scoring.batch_score_credit')}`);
  await ready(page, testInfo);
  const svg = page.locator('figure.lineage-graph svg');
  const box = await svg.boundingBox();
  if (!box) throw new Error('the graph has no box');
  const viewWidth = Number(((await svg.getAttribute('viewBox')) ?? '').split(' ')[2]);
  // Drawn at 80% of its size or more, on most of the window's width.
  expect(box.width / viewWidth).toBeGreaterThanOrEqual(0.8);
  expect(box.width).toBeGreaterThan(1100);
  // Long names lose their middle, not their end; the whole name is the node's title.
  const build = page.locator(`a[data-node="${BUILD}"]`);
  await expect(build.locator('text.label')).toHaveText('features.bu…t_features');
  await expect(build.locator('title')).toContainText('features.build_credit_features');
  // Counts of hidden neighbours overlap no node.
  const rects = await page.locator('a[data-node] rect').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().toJSON()));
  const counts = await page.locator('.hidden-count').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().toJSON()));
  expect(counts.length).toBeGreaterThan(0);
  for (const c of counts) {
    for (const r of rects) {
      const apart = c.right <= r.left || r.right <= c.left || c.bottom <= r.top || r.bottom <= c.top;
      expect(apart, `count ${JSON.stringify(c)} overlaps node ${JSON.stringify(r)}`).toBe(true);
    }
  }
  // The panel's tables fit inside it.
  const panel = page.locator('aside.lineage-panel');
  await expect(panel.getByText('Latest runs')).toBeVisible();
  const panelBox = await panel.boundingBox();
  for (const t of await panel.locator('table').all()) {
    const tb = await t.boundingBox();
    expect(tb!.x + tb!.width).toBeLessThanOrEqual(panelBox!.x + panelBox!.width + 1);
  }
  // Full screen works with or without JavaScript (the link targets the figure).
  await page.getByRole('link', { name: 'Full screen' }).click();
  const figure = page.locator('figure.lineage-graph');
  await expect.poll(async () => (await figure.boundingBox())?.width).toBeGreaterThanOrEqual(1430);
  await page.getByRole('link', { name: 'Exit full screen' }).click();
  await expect.poll(async () => (await figure.boundingBox())?.width).toBeLessThan(1430);
});

test('zoom, fit and keyboard moves once hydrated; without JavaScript the nodes are plain links', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'viewer');
  await page.goto(`/lineage?node=${encodeURIComponent(FEATURES)}`);
  await ready(page, testInfo);
  const svg = page.locator('figure.lineage-graph svg');
  const zoomIn = page.getByRole('button', { name: 'Zoom in' });
  if (isHydrated(testInfo)) {
    const before = (await svg.boundingBox())!.width;
    await zoomIn.click();
    await expect.poll(async () => (await svg.boundingBox())!.width).toBeGreaterThan(before * 1.2);
    await page.getByRole('button', { name: 'Fit to view' }).click();
    const scroller = page.locator('.graph-scroll');
    await expect.poll(async () => (await svg.boundingBox())!.width).toBeLessThanOrEqual((await scroller.boundingBox())!.width + 1);
    // Arrow keys move the focus between nodes: right goes one layer on.
    const build = page.locator(`a[data-node="${BUILD}"]`);
    await build.focus();
    const x0 = (await build.boundingBox())!.x;
    await page.keyboard.press('ArrowRight');
    const next = page.locator('a[data-node]:focus');
    await expect(next).toHaveCount(1);
    expect(await next.getAttribute('data-node')).not.toBe(BUILD);
    expect((await next.boundingBox())!.x).toBeGreaterThan(x0);
    await page.keyboard.press('ArrowLeft');
    await expect(page.locator('a[data-node]:focus')).toHaveAttribute('data-node', /.+/);
  } else {
    await expect(zoomIn).toBeHidden();
    // The nodes are plain links.
    await page.locator(`a[data-node="${BUILD}"]`).click();
    await expect(page).toHaveURL(/selected=job/);
  }
});
