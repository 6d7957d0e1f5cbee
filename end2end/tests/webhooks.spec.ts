import { expect, Page, test } from '@playwright/test';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { ready, signIn } from './helpers';

/** A webhook receiver on loopback (which run.sh's server is allowed to reach): it answers 500
 * until told to recover, then 200, and counts what it got. */
async function receiver(): Promise<{ url: string; got: () => number; recover: () => void; close: () => Promise<void> }> {
  let healthy = false;
  let got = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      got += 1;
      res.statusCode = healthy ? 200 : 500;
      res.end(healthy ? 'ok' : 'down');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    got: () => got,
    recover: () => {
      healthy = true;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A write through the REST API with the page's session (same-origin, as the browser sends it). */
async function post(page: Page, path: string, data: object) {
  const origin = new URL(page.url()).origin;
  const r = await page.request.post(path, { data, headers: { Origin: origin } });
  expect(r.ok(), `${path}: ${await r.text()}`).toBeTruthy();
  return r.json();
}

test('an admin finds a dead webhook delivery and sends it again once the receiver is back', async ({ page, browser }, testInfo) => {
  const rx = await receiver();
  try {
    await signIn(page, testInfo, 'admin');
    const hook = `e2e-hook-${testInfo.project.name}-${Date.now()}`;
    const created = await post(page, '/api/2.0/mlflow/webhooks', {
      name: hook,
      url: rx.url,
      events: [{ entity: 'REGISTERED_MODEL', action: 'CREATED' }],
    });
    expect(created.secret.length).toBeGreaterThanOrEqual(32);

    // A scientist registers a model: the event is queued in the same transaction.
    const other = await browser.newContext({ javaScriptEnabled: testInfo.project.use.javaScriptEnabled });
    const sci = await other.newPage();
    await signIn(sci, testInfo, 'scientist');
    await post(sci, '/api/2.0/mlflow/registered-models/create', { name: `${hook}-model` });
    await other.close();

    // The receiver fails both attempts the e2e server allows: the delivery is dead.
    await page.goto('/admin?deliveries=dead');
    await ready(page, testInfo);
    const deliveries = page.getByRole('table', { name: 'Deliveries' });
    const row = deliveries.getByRole('row').filter({ hasText: hook });
    await expect(async () => {
      await page.reload();
      await expect(row).toContainText('dead', { timeout: 1000 });
    }).toPass({ timeout: 20_000 });
    await expect(row).toContainText('HTTP 500');
    await expect(row.getByRole('cell').nth(4)).toHaveText('2');
    await expect(page.getByRole('table', { name: 'Webhooks' })).toContainText(rx.url);
    expect(rx.got()).toBe(2);

    rx.recover();
    await ready(page, testInfo);
    await row.getByRole('button', { name: `Redeliver registered_model.created to ${hook}` }).click();
    await page.goto('/admin?deliveries=delivered');
    const done = deliveries.getByRole('row').filter({ hasText: hook });
    await expect(async () => {
      await page.reload();
      await expect(done).toContainText('delivered', { timeout: 1000 });
    }).toPass({ timeout: 20_000 });
    await expect(done).toContainText('HTTP 200');
    await expect(done.getByRole('cell').nth(4)).toHaveText('3');
    expect(rx.got()).toBe(3);

    const r = await page.request.delete(`/api/2.0/mlflow/webhooks/${created.webhook.webhook_id}`, {
      headers: { Origin: new URL(page.url()).origin },
    });
    expect(r.ok()).toBeTruthy();
  } finally {
    await rx.close();
  }
});
