import { expect, test } from '@playwright/test';
import { callAPI, dragWithMouse, openSignedIn, screenshot } from './helpers';

// From an empty canvas, with the mouse: Get Opportunity -> Condition -> Add
// Tags, a reference inserted through the << menu, save, a test run, and
// every step succeeded with its output.
test('build a workflow from an empty canvas and test it', async ({ page, request }) => {
  const opps = await callAPI(request, 'GET', '/connections/local/proxy/opportunities?limit=1');
  const opp = opps.data[0];

  await openSignedIn(page, '/workflows/new');
  await page.getByTestId('workflow-name').fill('Tag from the canvas');

  // Drag three steps from the palette onto the canvas.
  const canvas = page.getByTestId('canvas');
  const box = (await canvas.boundingBox())!;
  for (const [type, y] of [['lever.get_opportunity', 0.35], ['condition', 0.55], ['lever.add_opportunity_tags', 0.75]] as const) {
    await page.getByTestId(`palette-${type}`).dragTo(canvas, { targetPosition: { x: box.width * 0.45, y: box.height * y } });
  }
  await expect(page.getByTestId('node-get_opportunity')).toBeVisible();
  await expect(page.getByTestId('node-condition')).toBeVisible();
  await expect(page.getByTestId('node-add_opportunity_tags')).toBeVisible();

  // Connect them by dragging handles.
  await dragWithMouse(page, 'handle-get_opportunity-out-next', 'handle-condition-in');
  await dragWithMouse(page, 'handle-condition-out-true', 'handle-add_opportunity_tags-in');
  await expect(page.locator('.react-flow__edge')).toHaveCount(3); // trigger -> get_opportunity is drawn too

  // Get Opportunity reads the trigger's id (typed by hand).
  await page.getByTestId('node-get_opportunity').click();
  await page.getByTestId('field-input.opportunity_id').fill('<<trigger.opportunityId>>');

  // The condition asks whether the opportunity has an id.
  await page.getByTestId('node-condition').click();
  if ((await page.getByTestId('field-input.if').getAttribute('role')) === 'switch') {
    await page.getByTestId('expr-toggle-input.if').click();
  }
  await page.getByTestId('field-input.if').fill('<<steps.get_opportunity.id != "">>');

  // Add Tags: the opportunity id through the << menu, one tag.
  await page.getByTestId('node-add_opportunity_tags').click();
  const oppField = page.getByTestId('field-input.opportunity_id');
  await oppField.click();
  await oppField.pressSequentially('<<');
  await expect(page.getByRole('listbox')).toBeVisible();
  await screenshot(page, 'editor-reference-menu');
  await page.getByTestId('ref-option-steps.get_opportunity.id').click();
  await expect(oppField).toHaveValue('<<steps.get_opportunity.id>>');
  await expect(page.getByTestId('ref-chip').first()).toContainText('Get Opportunity');
  await page.getByRole('button', { name: /add item/i }).first().click();
  await page.getByTestId('field-input.tags[0]').fill('canvas-e2e');

  await expect(page.getByTestId('problem-count')).toHaveCount(0);
  await page.getByTestId('save-workflow').click();
  await expect(page.getByTestId('editor-notice')).toContainText('Saved version 1');
  await expect(page).toHaveURL(/\/workflows\/tag-from-the-canvas$/);

  // Test run with hand-edited trigger data.
  await page.getByTestId('test-workflow').click();
  await page.getByTestId('test-payload').fill(JSON.stringify({ opportunityId: opp.id }));
  await page.getByTestId('run-test').click();
  for (const id of ['get_opportunity', 'condition', 'add_opportunity_tags']) {
    await expect(page.getByTestId(`node-${id}`).locator('.badge.succeeded')).toBeVisible();
  }
  await expect(page.getByTestId('editor-notice')).toContainText('succeeded');
  await page.getByTestId('node-add_opportunity_tags').click();
  await expect(page.getByTestId('step-output')).toContainText('canvas-e2e');
  await screenshot(page, 'editor-test-run');

  // "Test step" runs Add Tags alone with the last run's outputs.
  await page.getByTestId('panel-inspector').click();
  await page.getByTestId('inspector-test-step').click();
  await expect(page.getByTestId('step-test-result')).toContainText(/succeeded/i);
  await expect(page.getByTestId('step-test-output')).toContainText('canvas-e2e');

  // The tag really is in the (sandbox) Lever account.
  const after = await callAPI(request, 'GET', `/connections/local/proxy/opportunities/${opp.id}`);
  expect(after.data.tags).toContain('canvas-e2e');

  // The JSON tab shows the saved workflow; the versions tab lists v1.
  await page.getByTestId('tab-json').click();
  await expect(page.getByTestId('workflow-json')).toHaveValue(/"type": "lever.add_opportunity_tags"/);
  await screenshot(page, 'editor-json');
});
