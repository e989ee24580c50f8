import { expect, test } from '@playwright/test';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { callAPI, openSignedIn, screenshot } from './helpers';

// Open a failed run, retry it from the failed step, and see it succeed.
test('retry a failed run from its failed step', async ({ page, request }) => {
  // A service on loopback that fails until it is told to recover.
  let healthy = false;
  let calls = 0;
  const server: Server = createServer((_req, res) => {
    calls++;
    res.writeHead(healthy ? 200 : 503, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(healthy ? { ok: true } : { error: 'down for maintenance' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    await callAPI(request, 'POST', '/workflows?id=notify-service', {
      name: 'Notify the HR service',
      trigger: { type: 'api' },
      steps: [
        { id: 'prepare', type: 'transform', input: { value: { candidate: '<<trigger.name>>' } } },
        { id: 'notify', type: 'http.request', input: { method: 'POST', url: `http://127.0.0.1:${port}/notify`, body: '<<steps.prepare>>' }, retry: { max_attempts: 1 } },
      ],
      edges: [{ from: 'prepare', to: 'notify' }],
    });
    const run = await callAPI(request, 'POST', '/workflows/notify-service/runs?wait=20s', { name: 'Avery Chen' });
    expect(run.status).toBe('failed');

    await openSignedIn(page, '/runs?status=failed');
    await page.getByTestId(`run-row-${run.id}`).click();
    await expect(page.getByTestId('run-status')).toContainText(/failed/i);
    await expect(page.getByTestId('step-error')).toContainText('503');
    await screenshot(page, 'run-failed');

    healthy = true;
    const before = calls;
    await page.getByTestId('retry-failed').click();
    await expect(page.getByTestId('run-status')).toContainText(/succeeded/i, { timeout: 20_000 });
    expect(calls).toBe(before + 1); // only the failed step ran again
    const after = await callAPI(request, 'GET', `/runs/${run.id}`);
    expect(after.steps.prepare.attempts).toBe(1);
    await screenshot(page, 'run-retried');
  } finally {
    server.close();
  }
});
