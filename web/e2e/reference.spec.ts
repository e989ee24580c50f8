import { expect, test } from '@playwright/test';
import { openSignedIn, screenshot } from './helpers';

// A broken reference shows its problem on the right field and on its node
// before anything is saved.
test('a broken reference is shown on its field and node before saving', async ({ page }) => {
  await openSignedIn(page, '/');
  await page.getByTestId('new-workflow').click(); // in the app, so Back is the app's too
  await page.getByTestId('palette-lever.get_opportunity').click();
  await expect(page.getByTestId('node-get_opportunity')).toBeVisible();
  await page.getByTestId('node-get_opportunity').click();

  const field = page.getByTestId('field-input.opportunity_id');
  await field.fill('<<steps.nope.id>>');
  await expect(page.getByTestId('problem-input.opportunity_id')).toContainText('nope');
  await expect(field).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByTestId('node-get_opportunity').locator('[data-testid="node-problem"]')).toBeVisible();
  await expect(page.getByTestId('problem-count')).toBeVisible();
  await screenshot(page, 'editor-broken-reference');

  // Fixing it clears both.
  await field.fill('<<trigger.opportunityId>>');
  await expect(page.getByTestId('problem-input.opportunity_id')).toHaveCount(0);
  await expect(page.getByTestId('node-get_opportunity').locator('[data-testid="node-problem"]')).toHaveCount(0);

  // Nothing was saved meanwhile.
  await expect(page).toHaveURL(/\/workflows\/new$/);

  // Leaving with unsaved changes asks first: staying keeps the draft...
  let asked = '';
  page.once('dialog', (d) => {
    asked = d.message();
    void d.dismiss();
  });
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Runs' }).click();
  expect(asked).toContain('unsaved changes');
  await expect(page).toHaveURL(/\/workflows\/new$/);
  await expect(page.getByTestId('node-get_opportunity')).toBeVisible();
  // ...and so does the browser's Back button.
  asked = '';
  page.once('dialog', (d) => {
    asked = d.message();
    void d.dismiss();
  });
  await page.goBack();
  expect(asked).toContain('unsaved changes');
  await expect(page).toHaveURL(/\/workflows\/new$/);
  await expect(page.getByTestId('node-get_opportunity')).toBeVisible();
});
