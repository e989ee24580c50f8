import { expect, test } from '@playwright/test';
import { openSignedIn, screenshot } from './helpers';

// Connect a Lever account through the sandbox's OAuth consent page (in a
// popup) and test it to a green check.
test('connect Lever with OAuth and test the connection', async ({ page }) => {
  await openSignedIn(page, '/connections');
  await expect(page.getByTestId('connection-card-local')).toBeVisible();
  await page.getByTestId('connect-lever-open').click();
  await page.getByTestId('connect-name').fill('recruiting');
  await page.getByTestId('connect-environment').selectOption('local');
  await page.getByTestId('connect-method').selectOption('builtin');
  await screenshot(page, 'connections-connect-dialog');

  const popupPromise = page.waitForEvent('popup');
  await page.getByTestId('connect-submit').click();
  const popup = await popupPromise;
  await popup.waitForLoadState();
  await expect(popup.getByRole('button', { name: /accept|allow/i })).toBeVisible();
  await popup.getByRole('button', { name: /accept|allow/i }).click();

  await expect(page.getByTestId('connection-card-recruiting')).toBeVisible();
  await expect(page.getByTestId('connection-test-ok')).toBeVisible({ timeout: 15_000 });
  await expect(page.getByTestId('connection-test-ok')).toContainText('✓');
  await screenshot(page, 'connections');

  // The same name again is refused plainly.
  await page.getByTestId('connect-lever-open').click();
  await page.getByTestId('connect-name').fill('recruiting');
  await page.getByTestId('connect-environment').selectOption('local');
  await page.getByTestId('connect-method').selectOption('api_key');
  await page.getByTestId('connect-api-key').fill('not-a-real-key');
  await page.getByTestId('connect-submit').click();
  await expect(page.getByRole('alert')).toContainText(/already exists/i);
});
