/**
 * Debian's Chromium (/usr/bin/chromium, from apt; nothing is downloaded), headless, driven by
 * playwright-core, for the tests of the grid and the dashboard. Without it the tests fail, never
 * skip.
 */
import { type Browser, chromium } from 'playwright-core';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
