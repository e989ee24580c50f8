// Shared pieces of the browser tests: signing in, the API behind the page
// (for setting up data the test is not about) and screenshots.
import { expect, type APIRequestContext, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { adminToken, baseURL } from '../playwright.config';

export { adminToken, baseURL };

/** Opens path signed in with the admin token. */
export async function openSignedIn(page: Page, path = '/'): Promise<void> {
  await page.goto(`${path}#token=${adminToken}`);
  await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible();
}

const shots = join(import.meta.dirname, '..', 'e2e-output', 'screens');

/** Writes a 1440x900 screenshot of the page for reviewers (git ignores the folder). */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: join(shots, `${name}.png`) });
}

/** Calls the API with the admin token and returns the JSON answer. */
export async function callAPI<T = any>(request: APIRequestContext, method: string, path: string, body?: unknown): Promise<T> {
  const res = await request.fetch(`${baseURL}/api/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${adminToken}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    data: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok()) throw new Error(`${method} ${path}: ${res.status()} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Drags from one element to another with the mouse, in small moves. */
export async function dragWithMouse(page: Page, from: string, to: string): Promise<void> {
  const a = await page.getByTestId(from).boundingBox();
  const b = await page.getByTestId(to).boundingBox();
  if (!a || !b) throw new Error(`cannot drag ${from} -> ${to}: not on screen`);
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2 + a.width / 2, (a.y + b.y) / 2 + a.height / 2, { steps: 8 });
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 8 });
  await page.mouse.up();
}
