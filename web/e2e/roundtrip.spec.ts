import { expect, test } from '@playwright/test';
import { callAPI, openSignedIn, screenshot } from './helpers';

// Opening a workflow, selecting every node and looking at every form
// leaves its JSON exactly as saved: nothing to save, the JSON tab shows
// the stored document byte for byte (as pretty-printed JSON).
test('a round trip through the editor leaves the JSON unchanged', async ({ page, request }) => {
  const { workflows } = await callAPI(request, 'GET', '/workflows?limit=200');
  const ids: string[] = workflows.map((w: { id: string }) => w.id).filter((id: string) => ['tag-senior-applicants', 'route-by-stage', 'score-candidates', 'lever-users-directory'].includes(id));
  expect(ids.length).toBe(4);
  for (const id of ids) {
    const stored = await callAPI(request, 'GET', `/workflows/${id}`);
    await openSignedIn(page, `/workflows/${id}`);
    await expect(page.getByTestId('node-__trigger')).toBeVisible();
    const nodes = page.locator('[data-testid^="node-"]:not([data-testid="node-problem"])');
    const count = await nodes.count();
    for (let i = 0; i < count; i++) {
      await nodes.nth(i).click({ position: { x: 12, y: 12 } });
      await expect(page.getByTestId('inspector')).toBeVisible();
    }
    await expect(page.getByText('unsaved changes')).toHaveCount(0);
    await expect(page.getByTestId('save-workflow')).toBeDisabled();
    await page.getByTestId('tab-json').click();
    await expect(page.getByTestId('workflow-json')).toHaveValue(JSON.stringify(stored.workflow, null, 2));
  }

  // Versions: save a change, see the diff, restore version 1.
  await page.goto('/workflows/tag-senior-applicants');
  await page.getByTestId('node-tag').click();
  await page.getByTestId('inspector-name').fill('Tag as senior');
  await page.getByTestId('save-workflow').click();
  await expect(page.getByTestId('editor-notice')).toContainText('Saved version 2');
  await page.getByTestId('tab-versions').click();
  await expect(page.getByTestId('version-diff')).toContainText('Tag as senior');
  await screenshot(page, 'editor-versions');
  await page.getByTestId('restore-1').click();
  await expect(page.getByText('unsaved changes')).toBeVisible();
  await page.getByTestId('tab-json').click();
  const v1 = await callAPI(request, 'GET', '/workflows/tag-senior-applicants?version=1');
  await expect(page.getByTestId('workflow-json')).toHaveValue(JSON.stringify(v1.workflow, null, 2));

  // Broken JSON says where; JSON that is not a workflow is not applied.
  await page.getByTestId('workflow-json').fill('{\n  "name": "x",\n  "steps": [}\n');
  await expect(page.getByTestId('json-syntax')).toContainText('line 3, column 13');
  await expect(page.getByTestId('json-apply')).toBeDisabled();
  await page.getByTestId('workflow-json').fill('{"name": "x", "steps": []}');
  await page.getByTestId('json-apply').click();
  await expect(page.getByTestId('json-syntax')).toContainText('trigger must be an object');
});
