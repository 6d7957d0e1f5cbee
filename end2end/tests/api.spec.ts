import { expect, test } from '@playwright/test';

test('the API reference lists every group and links to the OpenAPI document', async ({ page, request }) => {
  await page.goto('/api/docs');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('API reference');
  const lineage = page.getByRole('region', { name: 'Lineage (OpenLineage)' });
  const ingest = lineage.getByRole('row').filter({ hasText: 'POST' }).filter({ hasText: '/api/v1/lineage' });
  await expect(ingest).toContainText('scientist');
  const approve = page.getByRole('row').filter({ hasText: '/api/v1/promotions/{id}/approve' });
  await expect(approve.getByRole('cell').nth(3)).toHaveText('reviewer');
  await expect(page.getByRole('region', { name: 'MLflow tracking' })).toContainText('/api/2.0/mlflow/runs/log-batch');

  const doc = await request.get('/api/openapi.json');
  expect(doc.ok()).toBeTruthy();
  const body = await doc.json();
  expect(body.openapi).toBe('3.1.0');
  expect(Object.keys(body.paths)).toContain('/api/v1/audit/export');
  await page.getByRole('link', { name: '/api/openapi.json' }).click();
  await expect(page).toHaveURL(/\/api\/openapi\.json$/);
});
