// Makes docs/screenshot.png: two users chatting, seen by one of them.
//   BASE_URL=http://127.0.0.1:8080/ node t/browser/shot.mjs docs/screenshot.png
// against a fresh members-mode server (make run with PayloadChatAccess
// members and a PayloadChatSecret).
import { chromium } from 'playwright-core';

const BASE = process.env.BASE_URL;
const out = process.argv[2] || 'screenshot.png';
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
const page = async (email) => {
  const ctx = await browser.newContext({ viewport: { width: 1000, height: 640 } });
  const p = await ctx.newPage();
  await p.goto(BASE);
  await p.getByTestId('email').fill(email);
  await p.getByTestId('password').fill('password123');
  await p.getByTestId('signup').click();
  await p.waitForSelector('[data-testid=conn][data-state=live]');
  return p;
};
const alice = await page('alice@example.com');
const bob = await page('bob@example.com');
await alice.reload();
await alice.waitForSelector('[data-testid=conn][data-state=live]');
await alice.click('[data-testid=person][data-email="bob@example.com"]');
await bob.click('[data-testid=person][data-email="alice@example.com"]');
const say = async (p, text) => {
  await p.getByTestId('text').fill(text);
  await p.getByTestId('text').press('Enter');
  await p.waitForTimeout(400);
};
await say(alice, 'Hi Bob! Is the Apache upgrade done?');
await say(bob, 'Yes, 2.4 with mod_payloadchat loaded. The chat runs inside it now.');
await say(alice, 'Nice. And the stream survives a graceful restart?');
await say(bob, 'It resumes from the last event id: nothing lost, nothing twice.');
await say(alice, '<b>not bold</b> - and HTML stays text.');
await bob.waitForTimeout(500);
await bob.screenshot({ path: out });
await browser.close();
