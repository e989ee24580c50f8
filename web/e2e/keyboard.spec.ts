import { expect, test } from '@playwright/test';
import { openSignedIn } from './helpers';

// The palette, the inspector and the reference menu work from the keyboard
// alone: no mouse event in this test.
test('palette, inspector and reference menu without a mouse', async ({ page }) => {
  await openSignedIn(page, '/workflows/new');

  // Palette: search, Tab to the match, Enter adds it (and selects it).
  const search = page.getByRole('searchbox', { name: 'Search steps' }).or(page.getByLabel('Search steps'));
  await search.focus();
  await page.keyboard.type('get opportunity');
  await expect(page.getByTestId('palette-lever.get_opportunity')).toBeVisible();
  await expect(page.getByTestId('palette-lever.create_posting')).toHaveCount(0);
  await page.getByTestId('palette-lever.get_opportunity').focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('node-get_opportunity')).toBeVisible();
  await expect(page.getByTestId('inspector')).toBeVisible();

  // Add a second step the same way: it is connected after the selected one.
  await search.focus();
  await page.keyboard.press('Control+A');
  await page.keyboard.type('add opportunity tags');
  await page.getByTestId('palette-lever.add_opportunity_tags').focus();
  await page.keyboard.press('Space');
  await expect(page.getByTestId('node-add_opportunity_tags')).toBeVisible();

  // Inspector: the opportunity id through the << menu, with arrows and Enter.
  const field = page.getByTestId('field-input.opportunity_id');
  await field.focus();
  await page.keyboard.type('<<get opportunity > id');
  const listbox = page.getByRole('listbox');
  await expect(listbox).toBeVisible();
  await expect(page.getByTestId('ref-option-steps.get_opportunity.id')).toBeVisible();
  // Steps that are not upstream are not offered.
  await expect(page.getByTestId('ref-option-steps.add_opportunity_tags.id')).toHaveCount(0);
  const activeOption = async () => page.locator(`[id="${await field.getAttribute('aria-activedescendant')}"]`).getAttribute('data-testid');
  for (let i = 0; i < 20 && (await activeOption()) !== 'ref-option-steps.get_opportunity.id'; i++) {
    await page.keyboard.press('ArrowDown');
  }
  expect(await activeOption()).toBe('ref-option-steps.get_opportunity.id');
  await page.keyboard.press('Enter');
  await expect(field).toHaveValue('<<steps.get_opportunity.id>>');
  await expect(listbox).toHaveCount(0);

  // Escape closes the menu without inserting anything.
  await page.keyboard.press('End');
  await page.keyboard.type(' <<');
  await expect(page.getByRole('listbox')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByRole('listbox')).toHaveCount(0);
  await expect(field).toHaveValue('<<steps.get_opportunity.id>> <<');

  // Next steps: remove the connection the palette made, then connect again,
  // all from the keyboard.
  await page.getByTestId('node-get_opportunity').focus();
  await page.keyboard.press('Enter');
  const next = page.getByTestId('next-steps');
  await expect(next).toContainText('add_opportunity_tags');
  await page.getByTestId('next-step-remove-add_opportunity_tags').focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('next-step-remove-add_opportunity_tags')).toHaveCount(0);
  await page.getByTestId('next-step-target').focus();
  await page.getByTestId('next-step-target').selectOption('add_opportunity_tags');
  await page.getByTestId('next-step-add').focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('next-step-remove-add_opportunity_tags')).toHaveCount(1);

  // Every control of the inspector has a label.
  const unlabeled = await page.getByTestId('inspector').evaluate((root) =>
    [...root.querySelectorAll('input, select, textarea, button')]
      .filter((el) => {
        const e = el as HTMLElement;
        if (e.offsetParent === null) return false;
        const labels = (el as HTMLInputElement).labels;
        return !(labels && labels.length) && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby') && !(e.tagName === 'BUTTON' && e.textContent?.trim());
      })
      .map((el) => el.outerHTML.slice(0, 120)),
  );
  expect(unlabeled).toEqual([]);
});
