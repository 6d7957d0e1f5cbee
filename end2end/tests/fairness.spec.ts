import { expect, test } from '@playwright/test';
import path from 'path';
import { isHydrated, signIn } from './helpers';

test('upload predictions, map the columns, and see the failing group', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'scientist');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Fairness', exact: true }).click();
  // The demo's reports are listed with their verdicts.
  await expect(page.getByRole('row', { name: /churn-prediction@2/ }).getByText('Fail')).toBeVisible();
  await expect(page.getByRole('row', { name: /credit-default@4/ }).getByText('Pass')).toBeVisible();

  const version = `e2e-model@${testInfo.project.name}`;
  await page.getByLabel('Model version').fill(version);
  await page.getByLabel('Evaluation dataset').fill('e2e-holdout');
  await page.getByLabel('Label (0/1)').fill('label');
  await page.getByLabel('Prediction (0/1)').fill('pred');
  await page.getByLabel('Sensitive attributes (comma-separated)').fill('sex,region');
  await page.getByLabel('Reference groups').fill('region:north');
  await page.getByLabel('File (CSV, or CSV.gz)').setInputFiles(path.join(__dirname, '..', 'fixtures', 'predictions.csv'));
  if (isHydrated(testInfo)) {
    // Hydrated, the file's first rows are previewed and its columns offered for the mapping.
    const preview = page.getByRole('table', { name: 'Preview of the first rows' });
    await expect(preview.getByRole('columnheader', { name: 'region' })).toBeVisible();
    await expect(preview.getByRole('row')).toHaveCount(6);
    await expect(page.getByLabel('Prediction (0/1)')).toHaveValue('pred');
  }
  await page.getByRole('button', { name: 'Upload and analyse' }).click();

  await expect(page).toHaveURL(/\/fairness\/\d+$/);
  await expect(page.getByRole('heading', { level: 1 })).toContainText(version);
  const verdict = page.getByRole('status');
  await expect(verdict).toContainText('Fail');
  await expect(verdict).toContainText("region = south: favorable_rate ratio");
  const byRegion = page.getByRole('region', { name: 'By region' });
  await expect(byRegion.getByRole('row', { name: /^south/ }).getByText('fail', { exact: true })).toBeVisible();
  await expect(byRegion.getByRole('row', { name: /^north \(reference\)/ }).getByText('pass', { exact: true })).toBeVisible();
  await expect(page.getByRole('img', { name: 'Bar chart of the policy metric by region' })).toBeVisible();

  // A bad mapping comes back to the form with the column named.
  await page.goto('/fairness');
  await page.getByLabel('Model version').fill(version);
  await page.getByLabel('Evaluation dataset').fill('e2e-holdout');
  await page.getByLabel('Prediction (0/1)').fill('prediction');
  await page.getByLabel('Sensitive attributes (comma-separated)').fill('sex');
  await page.getByLabel('File (CSV, or CSV.gz)').setInputFiles(path.join(__dirname, '..', 'fixtures', 'predictions.csv'));
  await page.getByRole('button', { name: 'Upload and analyse' }).click();
  await expect(page.getByRole('alert')).toContainText("column 'prediction' (prediction) is not in the header");
});
