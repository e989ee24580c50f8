import { expect, test } from '@playwright/test';
import { openSignedIn, screenshot } from './helpers';

// The main screens render with the server's data, for reviewers' screenshots.
test('main screens', async ({ page }) => {
  await openSignedIn(page, '/');
  await expect(page.getByTestId('workflows-table')).toContainText('Tag senior applicants');
  await screenshot(page, 'workflows');

  await page.getByRole('link', { name: 'Tag senior applicants' }).click();
  await expect(page.getByTestId('node-opp')).toBeVisible();
  await page.getByTestId('node-senior').click();
  await expect(page.getByTestId('inspector')).toBeVisible();
  await screenshot(page, 'editor');

  await openSignedIn(page, '/runs');
  await expect(page.getByRole('heading', { name: 'Runs' })).toBeVisible();
  await screenshot(page, 'runs');

  await openSignedIn(page, '/events');
  await expect(page.getByRole('heading', { name: /inbox/i })).toBeVisible();
  await screenshot(page, 'events');
});
