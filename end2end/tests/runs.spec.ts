import { expect, test } from '@playwright/test';
import { signIn } from './helpers';

test('filter runs, compare three, show identical params, open a run', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'scientist');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Runs', exact: true }).click();
  // The home page links credit-default too: wait for the Runs page to replace it.
  await expect(page.getByRole('heading', { name: 'Runs', level: 1 })).toBeVisible();
  await page.getByRole('link', { name: 'credit-default' }).click();
  await expect(page.getByRole('heading', { name: 'credit-default', level: 1 })).toBeVisible();

  await page.getByLabel('Filter', { exact: true }).fill("params.max_depth = '6' AND params.n_estimators = '400'");
  await page.getByLabel('Order by').fill('metrics.auc DESC');
  await page.getByRole('button', { name: 'Apply', exact: true }).click();
  await expect(page).toHaveURL(/filter=params\.max_depth/);
  const table = page.getByRole('table');
  await expect(table.getByRole('row')).toHaveCount(5); // header + one run per learning rate

  const boxes = table.getByRole('checkbox');
  for (const i of [0, 1, 2]) await boxes.nth(i).check();
  await page.getByRole('button', { name: 'Compare selected' }).click();
  await expect(page).toHaveURL(/\/runs\/compare\?run=.+&run=.+&run=/);
  await expect(page.getByRole('heading', { name: 'Parameters that differ (1)' })).toBeVisible();
  const identical = page.getByRole('table').filter({ hasText: 'class_weight' });
  await expect(identical).toBeHidden();
  await page.getByText('Show identical params (5)').click();
  await expect(identical).toBeVisible();
  await expect(page.getByRole('cell', { name: /^best:/ })).not.toHaveCount(0);
  await expect(page.locator('figure.chart svg').first()).toBeVisible();
  const values = page.getByRole('table').filter({ has: page.getByRole('columnheader', { name: 'Step' }) }).first();
  await expect(values).toBeHidden();
  await page.getByText('Values of val_loss').click();
  await expect(page.getByRole('table').filter({ has: page.getByRole('columnheader', { name: 'Step' }) }).filter({ visible: true })).toHaveCount(1);

  // Parallel coordinates and the scatter, with their axes chosen through a GET form.
  await expect(page.getByText('Differing params and accuracy', { exact: true })).toBeVisible();
  await page.getByLabel('Metric axis').selectOption('auc');
  await page.getByLabel('Scatter: metric').selectOption('val_loss');
  await page.getByRole('button', { name: 'Update charts' }).click();
  await expect(page).toHaveURL(/pc_metric=auc/);
  await expect(page.getByText('Differing params and auc', { exact: true })).toBeVisible();
  await expect(page.getByText(/^val_loss against /).first()).toBeVisible();
  await expect(page.getByRole('img', { name: /^Scatter: one point per run/ })).toBeVisible();

  const first = page.getByRole('columnheader').getByRole('link').first();
  const name = (await first.textContent()) ?? '';
  await first.click();
  await expect(page.getByRole('heading', { name, level: 1 })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Metric histories' })).toBeVisible();
  await expect(page.getByRole('cell', { name: 'credit-applications-2026q3' })).toBeVisible();
});

test('the column chooser hides and shows param and metric columns', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'scientist');
  await page.goto('/runs');
  await page.getByRole('link', { name: 'credit-default' }).click();
  const header = page.getByRole('columnheader', { name: 'subsample' });
  await expect(header).toBeVisible();
  await page.getByText('Columns', { exact: true }).click();
  await page.getByRole('checkbox', { name: 'params.subsample' }).uncheck();
  await page.getByRole('checkbox', { name: 'metrics.recall' }).uncheck();
  await page.getByRole('button', { name: 'Show columns' }).click();
  await expect(page).toHaveURL(/col=params\.max_depth/);
  await expect(page.getByRole('columnheader', { name: 'max_depth' })).toBeVisible();
  await expect(header).toHaveCount(0);
  await expect(page.getByRole('columnheader', { name: 'recall' })).toHaveCount(0);
  // Sorting keeps the chosen columns.
  await page.getByRole('columnheader', { name: 'auc' }).getByRole('link').click();
  await expect(page).toHaveURL(/order_by=metrics\.auc/);
  await expect(page.getByRole('columnheader', { name: 'subsample' })).toHaveCount(0);
});

test('a bad filter explains what is wrong', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'viewer');
  await page.goto('/runs');
  await page.getByRole('link', { name: 'churn-prediction' }).click();
  await page.getByLabel('Filter', { exact: true }).fill('metrics.auc > high');
  await page.getByRole('button', { name: 'Apply', exact: true }).click();
  await expect(page.getByRole('alert')).toContainText('filter');
});

test('a run is compared with the baseline and made the baseline', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'scientist');
  await page.goto('/runs');
  await page.getByRole('link', { name: 'churn-prediction' }).click();
  const table = page.getByRole('table');
  await expect(table.getByRole('row').filter({ hasText: 'churn-01' }).getByText('baseline')).toBeVisible();
  await table.getByRole('link', { name: 'churn-05' }).click();
  await expect(page.getByRole('heading', { name: 'churn-05', level: 1 })).toBeVisible();
  await expect(page.getByText("The experiment's baseline")).toHaveCount(0);
  await page.getByRole('link', { name: 'Compare with the baseline' }).click();
  await expect(page).toHaveURL(/\/runs\/compare\?run=/);
  await expect(page.getByRole('columnheader', { name: /churn-01\s+baseline/ }).first()).toBeVisible();

  await page.goBack();
  await expect(page.getByRole('heading', { name: 'churn-05', level: 1 })).toBeVisible();
  await page.getByRole('button', { name: 'Set as baseline' }).click();
  await expect(page.getByText("This run is the experiment's baseline.")).toBeVisible();
  await expect(page.getByRole('button', { name: 'Clear baseline' })).toBeVisible();

  // Put the demo's baseline back for the other project's run of this spec.
  await page.goto('/runs');
  await page.getByRole('link', { name: 'churn-prediction' }).click();
  await page.getByRole('table').getByRole('link', { name: 'churn-01' }).click();
  await page.getByRole('button', { name: 'Set as baseline' }).click();
  await expect(page.getByText("This run is the experiment's baseline.")).toBeVisible();
});
