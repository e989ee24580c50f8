import { expect, test } from '@playwright/test';
import { callAPI, openSignedIn, screenshot } from './helpers';

// The main screens render with the server's data, for reviewers' screenshots.
test('main screens', async ({ page, request }) => {
  await openSignedIn(page, '/');
  await expect(page.getByTestId('workflows-table')).toContainText('Tag senior applicants');
  await screenshot(page, 'workflows');

  await page.getByRole('link', { name: 'Tag senior applicants' }).click();
  await expect(page.getByTestId('node-opp')).toBeVisible();
  await page.getByTestId('node-senior').click();
  await expect(page.getByTestId('inspector')).toBeVisible();
  await screenshot(page, 'editor');

  // The example's made-up ids are replaced by a real opportunity of the
  // trigger's connection, so a test run gets through its Lever steps.
  await page.getByTestId('test-workflow').click();
  await expect(page.getByTestId('test-run-dialog')).toContainText('from the Lever account of “local”');
  await screenshot(page, 'editor-test-dialog');
  await page.getByTestId('run-test').click();
  await expect(page.getByTestId('node-opp').locator('.badge.succeeded')).toBeVisible();
  await expect(page.getByTestId('editor-notice')).toContainText('Test run succeeded');

  // A switch shows one handle per case and default; a For each holds its steps.
  await openSignedIn(page, '/workflows/route-by-stage');
  await expect(page.locator('[data-testid^="handle-"][data-testid*="-out-default"]')).toHaveCount(1);
  await screenshot(page, 'editor-switch');
  await openSignedIn(page, '/workflows/score-candidates');
  await expect(page.getByTestId('node-points')).toBeVisible();
  const group = (await page.getByTestId('node-score').boundingBox())!;
  const inner = (await page.getByTestId('node-points').boundingBox())!;
  expect(inner.x >= group.x && inner.y >= group.y && inner.x + inner.width <= group.x + group.width && inner.y + inner.height <= group.y + group.height).toBe(true);
  await screenshot(page, 'editor-fanout');

  // A stage change in the sandbox comes in as a signed webhook: the inbox shows it.
  const enabled = await callAPI(request, 'POST', '/workflows/tag-senior-applicants/enable');
  expect(enabled).toBeTruthy();
  const opps = await callAPI(request, 'GET', '/connections/local/proxy/opportunities?limit=1');
  const stages = await callAPI(request, 'GET', '/connections/local/proxy/stages');
  const stage = stages.data.find((s: { id: string }) => s.id !== opps.data[0].stage);
  await callAPI(request, 'PUT', `/connections/local/proxy/opportunities/${opps.data[0].id}/stage`, { stage: stage.id });
  await openSignedIn(page, '/events');
  await expect(page.getByRole('heading', { name: /inbox/i })).toBeVisible();
  await expect(page.getByTestId('events-table')).toContainText(/candidateStageChange|stage/i, { timeout: 15_000 });
  await page.locator('[data-testid^="event-row-"]').first().click();
  await expect(page.getByTestId('replay-event')).toBeVisible();
  await screenshot(page, 'events');

  await openSignedIn(page, '/runs');
  await expect(page.getByRole('heading', { name: 'Runs' })).toBeVisible();
  await expect(page.getByTestId('runs-table')).toContainText(/tag senior|tag-senior/i);
  await screenshot(page, 'runs');
});
