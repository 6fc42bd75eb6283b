// Makes docs/screenshot.png, seen by Bob: the conversation list (last
// message, time, unread count, online dots, Carol typing), a conversation
// over two days (day separators, an edited message), Alice online in the
// header and "Seen" under Bob's last message.
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
const carol = await page('carol@example.com');
const dave = await page('dave@example.com');
const id = (p) => p.evaluate(() => Number(localStorage.getItem('pchat.me')));
const ids = { alice: await id(alice), bob: await id(bob), carol: await id(carol), dave: await id(dave) };
// yesterday's part of the conversation, with its own timestamps
const yesterday = (h, m) => {
  const d = new Date();
  d.setDate(d.getDate() - 1);
  d.setHours(h, m, 0, 0);
  return d.toISOString();
};
const post = (p, from, to, content, timestamp) => p.evaluate(async (body) => {
  await fetch('/api/messages', { method: 'POST', credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
}, { sender: ids[from], receiver: ids[to], content, timestamp });
const open = async (p, email) => {
  const sel = `[data-testid=person][data-email="${email}"]`;
  if (!(await p.$(sel))) await p.getByTestId('people-search').fill(email);
  await p.click(sel);
};
await post(dave, 'dave', 'bob', 'The backup ran fine last night.');
await dave.close();   // Dave leaves: "last seen"
await post(alice, 'alice', 'bob', 'Hi Bob! Is the Apache upgrade done?', yesterday(17, 40));
await post(bob, 'bob', 'alice', 'Tomorrow morning, with mod_payloadchat loaded.', yesterday(17, 46));
await open(bob, 'alice@example.com');
await open(alice, 'bob@example.com');
const say = async (p, text) => {
  await p.getByTestId('text').fill(text);
  await p.getByTestId('text').press('Enter');
  await p.waitForTimeout(400);
};
await say(bob, 'Done: the chat runs inside Apache now.');
await say(alice, 'Nice. And the stream survives a graceful restart?');
await say(bob, 'It resumes from the last event id: nothing lost, nothing twice.');
// Bob edits his last message in place
const last = bob.locator('#message-list li.mine').last();
await last.locator('[data-testid=edit]').click();
await last.locator('[data-testid=edit-text]').fill('It resumes from the last event id: nothing lost, nothing sent twice.');
await last.locator('[data-testid=edit-text]').press('Enter');
await say(alice, '<b>not bold</b> - and HTML stays text.');
await say(bob, 'And now you can see when I have read it.');
await bob.waitForSelector('#message-list [data-testid=seen]', { timeout: 15000 });
await post(carol, 'carol', 'bob', 'Lunch at noon?');
await open(carol, 'bob@example.com');
await carol.getByTestId('text').pressSequentially('Or at one', { delay: 30 });
await bob.waitForSelector('[data-testid=typing]', { timeout: 15000 });
await bob.waitForTimeout(300);
await bob.screenshot({ path: out });
await browser.close();
