import { expect, test } from '@playwright/test';
import { failOnPageErrors, isHydrated, ready, signIn } from './helpers';

test('a model version shows its files, digest, signature and the code to load it; the alias API answers the same digest', async ({ page }, testInfo) => {
  failOnPageErrors(page);
  await signIn(page, testInfo, 'reviewer', '/models/credit-default');
  await page.getByRole('region', { name: 'Versions' }).getByRole('link', { name: 'v2', exact: true }).click();
  await expect(page).toHaveURL(/\/models\/credit-default\/versions\/2$/);
  await ready(page, testInfo);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('credit-default version 2');

  const serving = page.getByRole('region', { name: 'Serving' });
  await expect(serving).toContainText('production since');
  await expect(serving.locator('pre')).toContainText('mlflow.pyfunc.load_model("models:/credit-default@production")');

  const bytes = page.getByRole('region', { name: 'Files and digest' });
  const digest = (await bytes.locator('dd code.digest').first().textContent())?.trim() ?? '';
  expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  await expect(bytes).toContainText('yes: the files can no longer change');
  for (const file of ['MLmodel', 'scorecard.py', 'artifacts/weights.json', 'requirements.txt', 'input_example.json']) {
    await expect(bytes.getByRole('link', { name: file, exact: true })).toBeVisible();
  }
  // The demo's promotion re-hashed the files when it was requested and reviewed.
  await expect(bytes).toContainText('matches');

  await expect(page.getByRole('region', { name: 'Flavours' })).toContainText('mlflow.pyfunc.loaders.code_model');
  await expect(page.getByRole('region', { name: 'Flavours' })).toContainText('mlflow==3.17.2');
  const signature = page.getByRole('region', { name: 'Signature' });
  await expect(signature.getByRole('row', { name: /debt_to_income/ })).toContainText('double');
  await expect(signature.getByRole('row', { name: /delinquencies/ })).toContainText('long');
  await expect(signature).toContainText('"columns"');

  const alias = await page.request.get('/api/v1/models/credit-default/aliases/production');
  expect(alias.status()).toBe(200);
  const body = await alias.json();
  expect(body.version).toBe(2);
  expect(body.digest).toBe(digest);

  // A file downloads as bytes, never as a page of the site.
  const weights = await page.request.get(await bytes.getByRole('link', { name: 'artifacts/weights.json' }).getAttribute('href') ?? '');
  expect(weights.status()).toBe(200);
  expect(weights.headers()['content-disposition']).toContain('attachment');
  expect(JSON.parse(await weights.text()).weights.debt_to_income).toBeGreaterThan(3);
});

test('the run page browses the run files with safe previews and lists the model it logged', async ({ page }, testInfo) => {
  failOnPageErrors(page);
  await signIn(page, testInfo, 'scientist', '/models/credit-default/versions/2');
  await ready(page, testInfo);
  await page.getByRole('term').filter({ hasText: 'Training run' }).locator('..').getByRole('link').click();
  await expect(page).toHaveURL(/\/runs\/run\/[0-9a-f]{32}$/);
  await ready(page, testInfo);
  const files = page.getByRole('region', { name: 'Artifacts' });
  await expect(files).toContainText('2 files');
  await expect(files).toContainText('Choose a file to preview it.');
  // Folders are <details>: open it, then preview the CSV as a table.
  await files.getByText('evaluation/').click();
  await files.getByRole('link', { name: 'feature_weights.csv' }).click();
  await expect(page).toHaveURL(/\?artifact=evaluation%2Ffeature_weights\.csv$/);
  await ready(page, testInfo);
  const table = page.getByRole('region', { name: 'Artifacts' }).locator('table.artifact-csv');
  await expect(table.getByRole('columnheader', { name: 'weight' })).toBeVisible();
  await expect(table.getByRole('row', { name: /debt_to_income/ })).toBeVisible();
  // Markdown is shown as text.
  await page.getByRole('region', { name: 'Artifacts' }).getByRole('link', { name: 'model_card.md' }).click();
  await ready(page, testInfo);
  await expect(page.getByRole('region', { name: 'Artifacts' }).locator('pre.artifact-text')).toContainText('A logistic scorecard over debt_to_income');
  // The model the run logged, with its digest and the version it became.
  const models = page.getByRole('region', { name: 'Artifacts' });
  await expect(models.getByRole('link', { name: 'credit-default v2' })).toBeVisible();
  await expect(models.locator('code.digest').first()).toContainText('sha256:');
  if (isHydrated(testInfo)) {
    await models.getByRole('link', { name: 'credit-default v2' }).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('credit-default version 2');
  }
});

test('an HTML or SVG artifact is offered for download, never rendered', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'scientist', '/');
  const origin = new URL(page.url()).origin;
  const api = page.request;
  const headers = { Origin: origin };
  const exp = await (await api.post('/api/2.0/mlflow/experiments/create', { data: { name: `xss-artifacts-${testInfo.project.name}-${Date.now()}` }, headers })).json();
  const run = await (await api.post('/api/2.0/mlflow/runs/create', { data: { experiment_id: exp.experiment_id }, headers })).json();
  const runId = run.run.info.run_id;
  const root = `${exp.experiment_id}/${runId}/artifacts`;
  for (const [name, body] of [
    ['report.html', '<script>window.__pwned = 1</script><h1>pwned</h1>'],
    ['plot.svg', '<svg xmlns="http://www.w3.org/2000/svg"><script>window.__pwned = 1</script></svg>'],
  ]) {
    const r = await api.put(`/api/2.0/mlflow-artifacts/artifacts/${root}/${name}`, { data: body, headers });
    expect(r.status(), await r.text()).toBe(200);
  }
  await page.goto(`/runs/run/${runId}?artifact=report.html`);
  await ready(page, testInfo);
  const files = page.getByRole('region', { name: 'Artifacts' });
  await expect(files).toContainText('No preview for this kind of file');
  await expect(page.getByRole('heading', { name: 'pwned' })).toHaveCount(0);
  await page.goto(`/runs/run/${runId}?artifact=plot.svg`);
  await ready(page, testInfo);
  await expect(files).toContainText('No preview for this kind of file');
  expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  const direct = await api.get(`/api/2.0/mlflow-artifacts/artifacts/${root}/report.html`);
  expect(direct.headers()['content-type']).toBe('application/octet-stream');
  expect(direct.headers()['content-disposition']).toContain('attachment');
});
