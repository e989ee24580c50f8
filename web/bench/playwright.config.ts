import base from '../playwright.config';
import { defineConfig } from '@playwright/test';

export default defineConfig({ ...base, testDir: '.', testMatch: /.*\.bench\.ts$/, timeout: 180_000 });
