import { APIRequestContext, Browser, expect, Page, TestInfo, test } from '@playwright/test';
import { isHydrated, signIn } from './helpers';

/** Markup that runs script if it is ever inserted as HTML instead of text. */
const payload = (tag: string) => `<img src=x onerror="window.__xss=(window.__xss||[]).concat('${tag}')"><script>window.__xss=['${tag}-script']</script>`;

async function as(browser: Browser, testInfo: TestInfo, user: string, path: string): Promise<Page> {
  const context = await browser.newContext({
    baseURL: testInfo.project.use.baseURL,
    javaScriptEnabled: isHydrated(testInfo),
  });
  const page = await context.newPage();
  page.on('dialog', (d) => {
    throw new Error(`a dialog opened: ${d.message()}`);
  });
  await signIn(page, testInfo, user, path);
  return page;
}

// Cookie-authenticated writes must say they come from Gatehouse's origin, as a browser's do.
const ORIGIN = new URL(process.env.GATEHOUSE_URL ?? 'http://127.0.0.1:3000').origin;

async function post(api: APIRequestContext, path: string, data: unknown) {
  const r = await api.post(path, { data, headers: { Origin: ORIGIN } });
  const text = await r.text();
  expect(r.status(), `${path}: ${text}`).toBeLessThan(300);
  return text ? JSON.parse(text) : null;
}

async function noScriptRan(page: Page, path: string, literal: string) {
  await page.goto(path);
  await expect(page.getByText(literal, { exact: false }).first()).toBeAttached();
  const ran = await page.evaluate(() => (window as unknown as { __xss?: string[] }).__xss ?? null);
  expect(ran, `script ran on ${path}`).toBeNull();
}

test.setTimeout(90_000);

test('script payloads stored in names, descriptions, tags, params, facets, justifications and CSV values render as text', async ({ browser }, testInfo) => {
  const run = `${testInfo.project.name}-${Date.now()}`;
  const p = (where: string) => `${payload(where)} ${run}`;
  const scientist = await as(browser, testInfo, 'scientist', '/');
  const api = scientist.request;

  // MLflow: experiment, run name, tag and param values.
  const exp = await post(api, '/api/2.0/mlflow/experiments/create', { name: p('experiment') });
  const created = await post(api, '/api/2.0/mlflow/runs/create', {
    experiment_id: exp.experiment_id, run_name: p('run'), start_time: Date.now(),
    tags: [{ key: 'note', value: p('tag') }],
  });
  const runId = created.run.info.run_id;
  await post(api, '/api/2.0/mlflow/runs/log-batch', { run_id: runId, params: [{ key: 'comment', value: p('param') }] });

  // OpenLineage: a job with a documentation facet.
  await post(api, '/api/v1/lineage', {
    eventType: 'COMPLETE', eventTime: new Date().toISOString(), producer: 'https://example.com/xss',
    schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/definitions/RunEvent',
    run: { runId: crypto.randomUUID(), facets: {} },
    job: { namespace: 'xss', name: `job-${run}`, facets: { documentation: { _producer: 'https://example.com/xss', _schemaURL: 'https://openlineage.io/spec/facets/1-0-0/DocumentationJobFacet.json', description: p('facet') } } },
    inputs: [], outputs: [],
  });

  // A/B test: name, hypothesis.
  const ab = await post(api, '/api/v1/experiments', {
    name: p('abtest'), hypothesis: p('hypothesis'), status: 'running', start_date: '2026-11-01',
    variants: [{ name: 'control', weight: 50 }, { name: 'treatment', weight: 50 }],
    metrics: [{ name: 'checkout', type: 'binomial' }],
  });

  // Fairness: a CSV whose group values are payloads.
  const groupValue = `g${run}<img src=x onerror=window.__xss=1>`.replace(/,/g, ' ');
  let csv = 'label,pred,grp\n';
  for (let i = 0; i < 60; i++) csv += `${i % 2},${i % 3 === 0 ? 1 : 0},${i % 2 ? groupValue : 'plain'}\n`;
  const fr = await api.post(`/api/v1/fairness/reports?model_version=xss-model@1&dataset=${encodeURIComponent(p('dataset'))}&label=label&prediction=pred&attributes=grp`, {
    headers: { 'content-type': 'text/csv', Origin: ORIGIN }, data: csv,
  });
  expect(fr.status(), await fr.text()).toBe(201);
  const report = await fr.json();

  // Registry and a promotion request.
  const model = `xss-${run}`;
  await post(api, '/api/2.0/mlflow/registered-models/create', { name: model, description: p('model') });
  await post(api, '/api/2.0/mlflow/model-versions/create', { name: model, source: 's3://x', run_id: runId, description: p('version') });
  const promo = await post(api, '/api/v1/promotions', { model, version: 1, alias: 'production', justification: p('justification') });
  const promoId = promo.request.request.request_id;

  // The markup must show as text (not be dropped), and no script may have run.
  const shown = '<img src=x onerror=';
  await noScriptRan(scientist, `/runs/experiment/${exp.experiment_id}`, shown);
  await noScriptRan(scientist, `/runs/run/${runId}`, shown);
  await noScriptRan(scientist, '/experiments', shown);
  await noScriptRan(scientist, `/experiments/${ab.id}`, shown);
  await noScriptRan(scientist, `/fairness/${report.id}`, shown);
  await noScriptRan(scientist, `/lineage?node=${encodeURIComponent(`job:xss:job-${run}`)}`, shown);
  await noScriptRan(scientist, `/models/${model}`, shown);
  await noScriptRan(scientist, `/promotions/${promoId}`, shown);

  const auditor = await as(browser, testInfo, 'auditor', '/');
  await noScriptRan(auditor, `/audit?q=${encodeURIComponent(run)}`, shown);
});
