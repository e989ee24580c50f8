import { defineConfig } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Browser end-to-end tests: the real binary (bin/leverflow, with this
// editor embedded) on a fresh SQLite file and its built-in Lever sandbox,
// driven in Debian's headless Chromium. `make test-e2e` builds both.
const port = Number(process.env.E2E_PORT ?? 18431);
export const baseURL = `http://127.0.0.1:${port}`;
export const adminToken = 'e2e-admin-token-5f1c0d9a7b3e';
const dataDir = mkdtempSync(join(tmpdir(), 'leverflow-e2e-'));

export default defineConfig({
  testDir: './e2e',
  outputDir: './test-results',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL,
    viewport: { width: 1440, height: 900 },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-quic',
        '--no-first-run',
      ],
    },
  },
  webServer: {
    command: `${join(import.meta.dirname, '..', 'bin', 'leverflow')} serve --addr 127.0.0.1:${port} --data-dir ${dataDir} --shutdown-grace 2s`,
    url: `${baseURL}/healthz`,
    env: { LEVERFLOW_ADMIN_TOKEN: adminToken },
    reuseExistingServer: false,
    timeout: 30_000,
    stdout: 'ignore',
    stderr: process.env.E2E_SERVER_LOG ? 'pipe' : 'ignore',
  },
});
