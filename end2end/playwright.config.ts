import { defineConfig } from '@playwright/test';

// Every spec runs twice: once hydrated (the wasm must load and take over) and once with
// JavaScript disabled (plain HTML forms and links must do the whole job).
const baseURL = process.env.GATEHOUSE_URL ?? 'http://127.0.0.1:3000';

export default defineConfig({
  testDir: './tests',
  // run.sh runs the visual check first, alone, on the fresh demo workspace (its screenshots
  // would otherwise show what the other specs did), then the rest with this set.
  testIgnore: process.env.GATEHOUSE_SKIP_VISUAL ? ['**/visual.spec.ts'] : [],
  globalSetup: './global-setup.ts',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: true,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  projects: [
    { name: 'hydrated', use: { javaScriptEnabled: true } },
    { name: 'no-js', use: { javaScriptEnabled: false } },
  ],
});
