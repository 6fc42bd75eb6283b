// End-to-end test of the web client in headless Debian Chromium, driven by
// playwright-core; prints TAP.  Run by t/browser/chat.t, which passes:
//   BASE_URL     the page (e.g. http://127.0.0.1:8530/chat/), API at /api
//   RESTART_CMD  a shell command that gracefully restarts that Apache
//   SHOT_DIR     where to save screenshots
//   OPEN_URL     the page on an open-mode server
import { attempt, runTest, sleep } from './tap.mjs';
import { launch, openChat, send, shown, signUp as signUpAt, unreadOf, waitText } from './chatpage.mjs';
import { execSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

const BASE = process.env.BASE_URL;
const SHOT_DIR = process.env.SHOT_DIR || '.';
const RESTART = process.env.RESTART_CMD;
const run = Date.now();
const signUp = (page, email) => signUpAt(page, BASE, email);

async function main() {
  console.log('1..15');
  const browser = await launch();
  const ctxA = await browser.newContext({ viewport: { width: 1000, height: 700 } });
  const ctxB = await browser.newContext({ viewport: { width: 1000, height: 700 } });
  const a = await ctxA.newPage();
  const b = await ctxB.newPage();
  for (const p of [a, b]) p.setDefaultTimeout(8000);
  const errors = [];
  for (const p of [a, b]) p.on('pageerror', (e) => errors.push(e.message));
  const emailA = `alice-${run}@example.com`;
  const emailB = `bob-${run}@example.com`;

  await attempt('both users sign up and are live', async () => {
    await signUp(a, emailA);
    await signUp(b, emailB);
    await a.reload();   // A learns of B
    await a.waitForSelector('[data-testid=conn][data-state=live]', { timeout: 10000 });
    return true;
  });

  await attempt('B sees a message from A within 2 s, without reloading', async () => {
    await openChat(b, emailA);
    await openChat(a, emailB);
    const t0 = Date.now();
    await send(a, 'hello bob');
    await waitText(b, 'hello bob', 2000);
    return Date.now() - t0 < 2000;
  });

  await attempt("A's sent message shows once (reconciled, no duplicate)", async () => {
    await sleep(500);
    const mine = (await shown(a)).filter((m) => m.text === 'hello bob');
    return mine.length === 1 && mine[0].id;
  });

  await attempt('unread count rises while B looks elsewhere and clears on open', async () => {
    await b.getByTestId('back').click().catch(() => {});
    // B opens another person (or none): A's messages now count as unread
    const other = await b.$$eval('[data-testid=person]', (els, e) =>
      els.map((x) => x.dataset.email).find((x) => x !== e), emailA);
    if (other) await openChat(b, other);
    else await b.evaluate(() => { document.body.classList.remove('in-conversation'); });
    await send(a, 'are you there?');
    await b.waitForFunction((e) => {
      const el = document.querySelector(`[data-testid=person][data-email="${e}"] [data-testid=unread]`);
      return el && !el.hidden && Number(el.textContent) >= 1;
    }, emailA, { timeout: 3000 });
    const before = await unreadOf(b, emailA);
    await openChat(b, emailA);
    await waitText(b, 'are you there?');
    return before === 1 && (await unreadOf(b, emailA)) === 0;
  });

  const xss = '<img src=x onerror="window.__xss=1">';
  await attempt('an <img onerror> message shows as text and runs nothing', async () => {
    await send(a, xss);
    await waitText(b, xss);
    const imgs = await b.$$eval('#message-list img', (e) => e.length);
    const ran = await b.evaluate(() => window.__xss) || await a.evaluate(() => window.__xss);
    return imgs === 0 && !ran;
  });

  await attempt('the connection indicator says live', async () =>
    (await b.getByTestId('conn').textContent()) === 'live');

  await attempt('a graceful restart: B reconnects, every message exactly once', async () => {
    const texts = [];
    execSync(RESTART, { stdio: 'ignore' });
    for (let i = 1; i <= 5; i += 1) {
      texts.push(`during restart ${i}`);
      await a.evaluate(async ([to, from, content]) => {
        for (let k = 0; k < 20; k += 1) {   // the server may be restarting
          const r = await fetch('/api/messages', { method: 'POST', credentials: 'same-origin',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ sender: from, receiver: to, content }) });
          if (r.ok) return;
          await new Promise((res) => setTimeout(res, 250));
        }
        throw new Error('could not post');
      }, [await b.evaluate(() => Number(localStorage.getItem('pchat.me'))),
        await a.evaluate(() => Number(localStorage.getItem('pchat.me'))), texts[i - 1]]);
      await sleep(150);
    }
    await waitText(b, texts[4], 10000);
    await b.waitForSelector('[data-testid=conn][data-state=live]', { timeout: 10000 });
    await sleep(1500);   // anything doubled would have arrived by now
    const all = await shown(b);
    const ids = all.map((m) => m.id);
    const counts = texts.map((t) => all.filter((m) => m.text === t).length);
    return counts.every((c) => c === 1) && new Set(ids).size === ids.length;
  });

  await attempt('messages stay in order after the reconnect', async () => {
    const all = (await shown(b)).map((m) => m.text);
    const idx = [1, 2, 3, 4, 5].map((i) => all.indexOf(`during restart ${i}`));
    return idx.every((v, i) => v >= 0 && (i === 0 || v > idx[i - 1]));
  });

  let editedId;
  await attempt('an edit by A appears live in B', async () => {
    editedId = (await shown(a)).find((m) => m.text === 'hello bob').id;
    await a.evaluate(async (id) => {
      const r = await fetch(`/api/messages/${id}`, { method: 'PATCH', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ content: 'hello bob (edited)' }) });
      if (!r.ok) throw new Error(`PATCH ${r.status}`);
    }, editedId);
    await waitText(b, 'hello bob (edited)', 3000);
    const all = await shown(b);
    return all.filter((m) => m.id === editedId).length === 1;
  });

  await attempt('a delete by A disappears live in B', async () => {
    await a.evaluate(async (id) => {
      const r = await fetch(`/api/messages/${id}`, { method: 'DELETE', credentials: 'same-origin' });
      if (!r.ok) throw new Error(`DELETE ${r.status}`);
    }, editedId);
    await b.waitForFunction((id) => !document.querySelector(`#message-list li[data-id="${id}"]`),
      editedId, { timeout: 3000 });
    return true;
  });

  await attempt('timestamps are shown in local time', async () => {
    const t = await b.$eval('#message-list li[data-testid=message] time', (e) =>
      ({ iso: e.dateTime, text: e.textContent }));
    return t.iso && t.text && !t.text.includes('Z');
  });

  await attempt('controls are labelled', async () => b.evaluate(() =>
    [...document.querySelectorAll('button, textarea, input')]
      .filter((e) => e.offsetParent !== null)
      .every((e) => (e.labels && e.labels.length) || e.getAttribute('aria-label') || e.textContent.trim())));

  await attempt('usable at phone width', async () => {
    await b.setViewportSize({ width: 375, height: 740 });
    const composer = await b.getByTestId('composer').boundingBox();
    const width = await b.evaluate(() => document.documentElement.scrollWidth);
    return composer && composer.width <= 375 && width <= 375;
  });

  await attempt('screenshots saved; no script error on the pages', async () => {
    mkdirSync(SHOT_DIR, { recursive: true });
    await b.setViewportSize({ width: 1000, height: 700 });
    await b.screenshot({ path: `${SHOT_DIR}/conversation.png` });
    await b.setViewportSize({ width: 375, height: 740 });
    await b.screenshot({ path: `${SHOT_DIR}/conversation-phone.png` });
    if (errors.length) console.log(`# page errors: ${errors.join(' | ')}`);
    return errors.length === 0;
  });

  await attempt('open mode: pick who you are, found by email', async () => {
    const ctx = await browser.newContext();
    const p = await ctx.newPage();
    const email = `picked-${run}@example.com`;
    await p.request.post(`${new URL(process.env.OPEN_URL).origin}/api/users`,
      { data: { email, password: 'password123' } });
    await p.goto(process.env.OPEN_URL);
    await p.getByTestId('pick-search').fill(email);
    await p.click(`[data-testid=pick-user]:text-is("${email}")`);
    await p.waitForSelector('[data-testid=conn][data-state=live]', { timeout: 10000 });
    const who = await p.getByTestId('whoami').textContent();
    await ctx.close();
    return who === email;
  });

  await browser.close();
}

runTest(main, 120);
