// The web client's fixes of issue 16, end to end in headless Chromium;
// prints TAP.  Run by t/browser/client.t, which passes:
//   BASE_URL  the page on a members-mode server (e.g. http://127.0.0.1:8530/chat/)
//   OPEN_URL  the page on an open-mode server
//   SHOT_DIR  where to save a screenshot
import { attempt, runTest, sleep, tap } from './tap.mjs';
import { launch, logIn, myId, openChat, person, post, send, shown, signUp, unreadOf, waitText } from './chatpage.mjs';
import { mkdirSync } from 'node:fs';

const BASE = process.env.BASE_URL;
const OPEN = process.env.OPEN_URL;
const SHOT_DIR = process.env.SHOT_DIR || '.';
const run = Date.now();

const live = (page) => page.waitForSelector('[data-testid=conn][data-state=live]', { timeout: 20000 });
const messageEl = (id) => `#message-list li[data-id="${id}"]`;

async function main() {
  console.log('1..14');
  const browser = await launch();
  const errors = [];
  const dialogs = [];
  const newPage = async (viewport = { width: 1000, height: 700 }) => {
    const p = await (await browser.newContext({ viewport })).newPage();
    p.setDefaultTimeout(20000);
    await p.addInitScript(() => window.addEventListener('unhandledrejection', (e) => console.log('UNHANDLED', e.reason?.stack)));
    p.on('console', (m) => { if (m.text().startsWith('UNHANDLED')) console.log('# ' + m.text().replace(/\n/g, ' ')); });
    p.on('pageerror', (e) => errors.push(`after test ${tap.n} ${p.url()}: ${e.stack}`));
    p.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
    return p;
  };
  const a = await newPage();
  const b = await newPage();
  const emailA = `ann-${run}@example.com`;
  const emailB = `ben-${run}@example.com`;

  await attempt('no connection badge on the sign-in page', async () => {
    await a.goto(BASE);
    await a.waitForSelector('#auth:not([hidden])');
    await sleep(500);
    return !(await a.getByTestId('conn').isVisible());
  });

  await attempt('favicon: the page links one; favicon.svg and favicon.ico are 200', async () => {
    const href = await a.$eval('link[rel=icon]', (l) => l.href);
    const svg = await a.request.get(href);
    const ico = await a.request.get(new URL('favicon.ico', BASE).href);
    return svg.status() === 200 && svg.headers()['content-type'].startsWith('image/svg+xml')
      && ico.status() === 200 && ico.headers()['content-type'].startsWith('image/')
      && (await ico.body()).subarray(0, 4).equals(Buffer.from([0, 0, 1, 0]));
  });

  await attempt('the badge shows once signed in', async () => {
    await signUp(a, BASE, emailA);
    await signUp(b, BASE, emailB);
    return a.getByTestId('conn').isVisible();
  });

  await attempt('the search box finds a user by part of the email', async () => {
    await a.getByTestId('people-search').fill(`ben-${run}`);
    await a.waitForFunction((e) => {
      const els = [...document.querySelectorAll('[data-testid=person]')];
      return els.length === 1 && els[0].dataset.email === e;
    }, emailB, { timeout: 15000 });
    await a.getByTestId('people-search').fill('');
    return true;
  });

  await attempt('unread counts do not change on reload', async () => {
    const [from, to] = [await myId(a), await myId(b)];
    for (const t of ['one', 'two', 'three']) await post(a, { sender: from, receiver: to, content: `unread ${t}` });
    await b.waitForFunction((sel) => {
      const el = document.querySelector(`${sel} [data-testid=unread]`);
      return el && Number(el.textContent) === 3;
    }, `${person(emailA)}`, { timeout: 15000 });
    const counts = [await unreadOf(b, emailA)];
    for (let i = 0; i < 2; i += 1) {
      await b.reload();
      await live(b);
      await b.waitForSelector(person(emailA));
      await sleep(2000);   // the backlog has been replayed by now (a loaded machine: generous)
      counts.push(await unreadOf(b, emailA));
    }
    const receipt = b.waitForResponse((r) => r.url().includes('/api/receipts')
      && r.request().method() === 'POST', { timeout: 15000 });
    await openChat(b, emailA);
    await waitText(b, 'unread three', 15000);
    await receipt;   // stored: the reload cannot be first
    await b.reload();
    await live(b);
    await b.waitForSelector(person(emailA));
    await sleep(2000);
    counts.push(await unreadOf(b, emailA));
    console.log(`# unread on load, reload, reload, after reading + reload: ${counts}`);
    return counts.join() === '3,3,3,0';
  });

  await attempt('the list is the people talked with, most recent first', async () => {
    const first = await a.$eval('[data-testid=person]', (e) => e.dataset.email);
    return first === emailB;
  });

  await attempt('a user who signs up after the page loaded: found by search, listed once they write', async () => {
    const email = `0new-${run}@example.com`;
    const r = await a.request.post(new URL('/api/users', BASE).href,
      { data: { email, password: 'password123' }, headers: { Origin: new URL(BASE).origin } });
    if (r.status() !== 201) throw new Error(`sign-up ${r.status()}`);
    await a.getByTestId('people-search').fill(`0new-${run}`);
    await a.waitForSelector(person(email), { timeout: 15000 });
    await a.getByTestId('people-search').fill('');
    await a.waitForSelector(person(emailB), { timeout: 15000 });
    const listedBefore = !!(await a.$(person(email)));
    const n = await newPage();
    await logIn(n, BASE, email);
    await post(n, { sender: await myId(n), receiver: await myId(a), content: 'hi from the new one' });
    await a.waitForFunction((sel) => document.querySelector('[data-testid=person]')?.matches(sel),
      person(email), { timeout: 15000 });
    await n.context().close();
    return !listedBefore;
  });

  let msgId;
  await attempt('edit in place: Escape cancels, Enter saves, "edited" shows on both sides', async () => {
    await openChat(b, emailA);
    await openChat(a, emailB);
    await waitText(a, 'unread two', 15000);
    msgId = (await shown(a)).find((m) => m.text === 'unread two').id;
    await a.click(`${messageEl(msgId)} [data-testid=edit]`);
    const ta = a.locator(`${messageEl(msgId)} [data-testid=edit-text]`);
    const initial = await ta.inputValue();
    const focused = await ta.evaluate((e) => e === document.activeElement);
    await ta.fill('not this');
    await ta.press('Escape');
    const cancelled = (await shown(a)).find((m) => m.id === msgId).text;
    await a.click(`${messageEl(msgId)} [data-testid=edit]`);
    await ta.fill('unread two, edited');
    await ta.press('Enter');
    await waitText(a, 'unread two, edited', 15000);
    await waitText(b, 'unread two, edited', 15000);
    const marked = await Promise.all([a, b].map((p) =>
      p.$eval(`${messageEl(msgId)} [data-testid=edited]`, (e) => e.textContent)));
    const unmarked = await a.$$(`#message-list [data-testid=edited]`);
    console.log(`# editor had "${initial}" (focused: ${focused}); after Escape "${cancelled}"; marks ${marked}; ${unmarked.length} marked on A's page; dialogs ${dialogs.length}`);
    return initial === 'unread two' && focused && cancelled === 'unread two'
      && marked.every((m) => m === 'edited') && unmarked.length === 1 && dialogs.length === 0;
  });

  await attempt('delete asks inline: Keep keeps, Delete removes on both sides', async () => {
    await a.click(`${messageEl(msgId)} [data-testid=delete]`);
    const asked = await a.$eval(`${messageEl(msgId)} [data-testid=confirm]`, (e) => e.textContent);
    await a.click(`${messageEl(msgId)} [data-testid=cancel-delete]`);
    await sleep(300);
    const kept = !!(await a.$(messageEl(msgId))) && !(await a.$('[data-testid=confirm]'));
    await a.click(`${messageEl(msgId)} [data-testid=delete]`);
    await a.click(`${messageEl(msgId)} [data-testid=confirm-delete]`);
    for (const p of [a, b]) {
      await p.waitForFunction((sel) => !document.querySelector(sel), messageEl(msgId), { timeout: 15000 });
    }
    return asked.includes('Delete') && kept && dialogs.length === 0;
  });

  await attempt('day separators between days; each message shows its time only', async () => {
    const old = new Date(Date.now() - 3 * 86400000).toISOString();
    const c = await newPage();
    const emailC = `cat-${run}@example.com`;
    await signUp(c, BASE, emailC);
    await post(a, { sender: await myId(a), receiver: await myId(c), content: 'from three days ago', timestamp: old });
    await openChat(a, emailC);
    await send(a, 'from today');
    await waitText(a, 'from today', 15000);
    await sleep(500);
    const items = await a.$$eval('#message-list > li', (els) => els.map((e) =>
      (e.dataset.testid === 'day' ? `day:${e.textContent}` : e.querySelector('.text').textContent)));
    const times = await a.$$eval('#message-list time', (els) => els.map((e) => e.textContent));
    console.log(`# ${items.join(' | ')} ; times ${times.join(', ')}`);
    return items.length === 4 && items[0].startsWith('day:') && items[0] !== 'day:Today'
      && items[1] === 'from three days ago' && items[2] === 'day:Today' && items[3] === 'from today'
      && times.every((t) => /^\d{1,2}:\d{2}( ?[AP]M)?$/.test(t));
  });

  await attempt('open mode: Log out sticks across a reload (signed-up user)', async () => {
    const p = await newPage();
    await signUp(p, OPEN, `open-out-${run}@example.com`);
    await p.getByTestId('logout').click();
    await p.waitForSelector('#auth:not([hidden])');
    await p.reload();
    await p.waitForSelector('#auth:not([hidden])');
    await sleep(1000);   // a wrongly kept session would have entered by now
    return await p.isHidden('#chat') && (await p.getByTestId('whoami').textContent()) === ''
      && !(await p.getByTestId('conn').isVisible());
  });

  await attempt('open mode: Log out of a picked user sticks across a reload', async () => {
    const p = await newPage();
    const email = `open-pick-${run}@example.com`;
    await p.request.post(new URL('/api/users', OPEN).href,
      { data: { email, password: 'password123' }, headers: { Origin: new URL(OPEN).origin } });
    await p.goto(OPEN);
    await p.getByTestId('pick-search').fill(email);
    await p.click(`[data-testid=pick-user]:text-is("${email}")`);
    await live(p);
    await p.getByTestId('logout').click();
    await p.reload();
    await p.waitForSelector('#auth:not([hidden])');
    await sleep(1000);
    return p.isHidden('#chat');
  });

  await attempt('members mode: Log out sticks across a reload; no open-mode user list', async () => {
    await b.getByTestId('logout').click();
    await b.waitForSelector('#auth:not([hidden])');
    await sleep(500);
    const noPick = await b.isHidden('#pick');
    await b.reload();
    await b.waitForSelector('#auth:not([hidden])');
    await sleep(1000);
    return noPick && await b.isHidden('#chat') && await b.isHidden('#pick');
  });

  await attempt('no script error and no prompt/confirm/alert on the pages', async () => {
    mkdirSync(SHOT_DIR, { recursive: true });
    await a.screenshot({ path: `${SHOT_DIR}/client.png` });
    if (errors.length) console.log(`# page errors: ${errors.join(' | ')}`);
    if (dialogs.length) console.log(`# dialogs: ${dialogs.join(' | ')}`);
    return errors.length === 0 && dialogs.length === 0;
  });

  await browser.close();
}

runTest(main, 150);
