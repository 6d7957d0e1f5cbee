import { expect, test } from '@playwright/test';
import { ready, signIn } from './helpers';

test('a model whose name holds a space, ?, # and a literal %41 opens from the list and links to its lineage', async ({ page }, testInfo) => {
  const name = `odd name? #${testInfo.project.name} 50%41 ${Date.now()}`;
  await signIn(page, testInfo, 'scientist', '/');
  const api = page.request;
  for (const [path, data] of [
    ['/api/2.0/mlflow/registered-models/create', { name }],
    ['/api/2.0/mlflow/model-versions/create', { name, source: 's3://gatehouse-e2e/odd' }],
    ['/api/2.0/mlflow/registered-models/alias', { name, alias: 'canary', version: '1' }],
  ] as const) {
    // Cookie-authenticated writes must say they come from this origin, as a browser's do.
    const r = await api.post(path, { data, headers: { Origin: new URL(page.url()).origin } });
    expect(r.status(), `${path}: ${await r.text()}`).toBe(200);
  }

  await page.goto('/models');
  await ready(page, testInfo);
  await page.getByRole('link', { name, exact: true }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(name);
  expect(new URL(page.url()).pathname).toBe(`/models/${encodeURIComponent(name)}`);
  await page.reload();
  await ready(page, testInfo);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(name);
  await expect(page.getByRole('region', { name: 'Versions' })).toContainText('s3://gatehouse-e2e/odd');

  await page.getByRole('region', { name: 'Aliases' }).getByRole('link', { name: 'version 1' }).click();
  await expect(page).toHaveURL(/\/lineage\?node=/);
  await expect(page.locator('main')).toContainText('canary');
  await expect(page.locator('main')).not.toContainText('Not found');
});
