// Editor load figures (not a test: nothing is asserted about speed). Run
// with `make bench-web`: the real binary on a fresh SQLite file, Debian's
// headless Chromium, a 1440x900 window. Prints one line per measurement.
import { expect, test } from '@playwright/test';
import { adminToken, baseURL } from '../playwright.config';

/** A workflow of n transform steps in a chain, without positions (auto-laid out). */
function chain(n: number) {
  const steps = Array.from({ length: n }, (_, i) => ({ id: `s${i}`, type: 'transform', input: { value: i === 0 ? '<<trigger>>' : `<<steps.s${i - 1}>>` } }));
  const edges = steps.slice(1).map((s, i) => ({ from: `s${i}`, to: s.id }));
  return { name: `Chain of ${n}`, trigger: { type: 'api' }, steps, edges };
}

async function median(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

test('editor load and interaction figures', async ({ page, request }) => {
  for (const n of [10, 100, 300]) {
    const res = await request.post(`${baseURL}/api/v1/workflows?id=chain-${n}`, {
      headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
      data: JSON.stringify(chain(n)),
    });
    expect(res.status()).toBe(201);
  }
  await page.goto(`/#token=${adminToken}`);
  await expect(page.getByTestId('workflows-table')).toBeVisible();

  const cold: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = Date.now();
    await page.goto(`/workflows/chain-10?r=${i}`);
    await expect(page.getByTestId('node-s9')).toBeVisible();
    cold.push(Date.now() - t0);
  }
  console.log(`page load to a drawn 10-step canvas: median ${await median(cold)} ms over 5 (full reload each)`);

  for (const n of [100, 300]) {
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = Date.now();
      await page.goto(`/workflows/chain-${n}?r=${i}`);
      await expect(page.getByTestId(`node-s${Math.min(n - 1, 5)}`)).toBeVisible();
      times.push(Date.now() - t0);
    }
    console.log(`page load to a drawn ${n}-step canvas (auto-layout): median ${await median(times)} ms over 3`);
  }

  // Typing into a field: from the input event to the next frame after
  // React's commit, timed inside the page (Playwright's own selector work
  // on a large page would otherwise dominate).
  for (const n of [10, 100, 300]) {
    await page.goto(`/workflows/chain-${n}`);
    await page.getByTestId('node-s1').dispatchEvent('click'); // it may lie outside the fitted view
    await expect(page.getByTestId('field-input.value')).toBeVisible();
    const keys = await page.getByTestId('field-input.value').evaluate(async (el) => {
      const input = el as HTMLInputElement | HTMLTextAreaElement;
      const proto = input instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
      const set = Object.getOwnPropertyDescriptor(proto, 'value')!.set!;
      const out: number[] = [];
      for (const ch of 'hello world!') {
        const t0 = performance.now();
        set.call(input, input.value + ch);
        input.dispatchEvent(new Event('input', { bubbles: true }));
        await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
        out.push(performance.now() - t0);
      }
      return out;
    });
    console.log(`keystroke to the next frame in a ${n}-step workflow: median ${(await median(keys)).toFixed(1)} ms over ${keys.length}`);
  }

  // The << menu opening on the last of 100 chained steps (99 upstream),
  // timed inside the page from the input event to the drawn list.
  await page.goto('/workflows/chain-100');
  await page.getByTestId('node-s99').dispatchEvent('click');
  await expect(page.getByTestId('field-input.value')).toBeVisible();
  const menus = await page.getByTestId('field-input.value').evaluate(async (el) => {
    const input = el as HTMLInputElement | HTMLTextAreaElement;
    const proto = input instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
    const set = Object.getOwnPropertyDescriptor(proto, 'value')!.set!;
    const out: number[] = [];
    for (let i = 0; i < 5; i++) {
      input.focus();
      set.call(input, '');
      input.dispatchEvent(new Event('input', { bubbles: true }));
      await new Promise((r) => setTimeout(r, 50));
      const t0 = performance.now();
      set.call(input, '<<');
      input.setSelectionRange(2, 2);
      input.dispatchEvent(new Event('input', { bubbles: true }));
      while (!document.querySelector('[role="listbox"] [role="option"]')) await new Promise((r) => requestAnimationFrame(r));
      out.push(performance.now() - t0);
      input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
      await new Promise((r) => setTimeout(r, 50));
    }
    return out;
  });
  console.log(`<< menu drawn with 99 upstream steps: median ${(await median(menus)).toFixed(1)} ms over ${menus.length}`);
});
