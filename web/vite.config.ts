import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

// The editor is served by `leverflow serve` from web/dist (embedded in the
// binary). `npm run dev` serves it with hot reload and sends API calls to
// a server on LEVERFLOW_URL (default http://127.0.0.1:8080).
const api = process.env.LEVERFLOW_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1024,
  },
  server: {
    proxy: {
      '/api': api,
      '/lever-sandbox': api,
    },
  },
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
    environment: 'node',
    coverage: {
      provider: 'v8',
      include: ['src/**/*.{ts,tsx}'],
      exclude: ['src/**/*.test.{ts,tsx}', 'src/main.tsx'],
      reporter: ['text-summary', 'text'],
      reportsDirectory: 'coverage',
    },
  },
});
