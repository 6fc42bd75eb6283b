// Presence, typing, read receipts, server-side unread counts, the
// conversation list, notifications and the search within a conversation
// (issue 16), end to end in headless Chromium with several users in
// separate browser contexts; prints TAP.  Run by t/browser/social.t, which
// passes:
//   BASE_URL        the page on a members-mode server
//   OPEN_URL        the page on an open-mode server
//   SHOT_DIR        where to save a screenshot
//   OFFLINE_WITHIN  ms within which a closed page's user shows offline
//                   (the server's stated bound, plus slack)
import { attempt, runTest, sleep, tap } from './tap.mjs';
import { launch, logIn, myId, openChat, person, post, send, setHidden, shown, signUp, unreadOf, waitText } from './chatpage.mjs';
import { mkdirSync } from 'node:fs';

const BASE = process.env.BASE_URL;
const OPEN = process.env.OPEN_URL;
const SHOT_DIR = process.env.SHOT_DIR || '.';
const OFFLINE_WITHIN = Number(process.env.OFFLINE_WITHIN || 15000);
const run = Date.now();
const WAIT = 15000;   // anything but the presence bound: a loaded machine

const status = (page) => page.$eval('[data-testid=peer-status]', (e) => ({ state: e.dataset.state, text: e.textContent }));
const dotOf = (page, email) => page.$eval(`${person(email)} [data-testid=presence]`, (e) => e.dataset.online);
const seenOn = (page) => page.$$eval('#message-list [data-testid=seen]',
  (els) => els.map((e) => e.closest('li[data-testid=message]').querySelector('.text').textContent));
const listOrder = (page) => page.$$eval('[data-testid=person]', (els) => els.map((e) => e.dataset.email));
const waitUnread = (page, email, n) => page.waitForFunction(([sel, want]) => {
  const b = document.querySelector(`${sel} [data-testid=unread]`);
  return b && (b.hidden ? 0 : Number(b.textContent)) === want;
}, [person(email), n], { timeout: WAIT });

// Records each Notification the page creates (the browser's own popup is
// not visible to the test), then creates it.
function spyOnNotifications() {
  window.__notes = [];
  const Real = window.Notification;
  if (!Real) return;
  class Spy extends Real {
    constructor(title, options) {
      super(title, options);
      window.__notes.push({ title, body: options?.body });
    }
  }
  Object.defineProperty(Spy, 'permission', { get: () => Real.permission });
  Spy.requestPermission = (...a) => Real.requestPermission(...a);
  window.Notification = Spy;
}

// Records the typing and read events the page's stream brings.
function recordSignals() {
  window.__signals = [];
  const Real = window.EventSource;
  window.EventSource = class extends Real {
    constructor(...args) {
      super(...args);
      for (const type of ['typing', 'read']) {
        this.addEventListener(type, (ev) => window.__signals.push({ type, data: JSON.parse(ev.data) }));
      }
    }
  };
}

async function main() {
  console.log('1..17');
  const browser = await launch();
  const errors = [];
  const contexts = [];
  const newPage = async (ctx) => {
    const context = ctx || await browser.newContext({ viewport: { width: 1000, height: 700 } });
    if (!ctx) contexts.push(context);
    const p = await context.newPage();
    p.setDefaultTimeout(WAIT);
    p.on('pageerror', (e) => errors.push(`after test ${tap.n} ${p.url()}: ${e.stack}`));
    return p;
  };
  const emailA = `amy-${run}@example.com`;
  const emailB = `bob-${run}@example.com`;
  const emailC = `cid-${run}@example.com`;
  const a = await newPage();
  let b = await newPage();
  const c = await newPage();
  await signUp(a, BASE, emailA);
  await signUp(b, BASE, emailB);
  await signUp(c, BASE, emailC);
  const ids = { a: await myId(a), b: await myId(b), c: await myId(c) };
  await c.addInitScript(recordSignals);
  await c.reload();
  await c.waitForSelector('[data-testid=conn][data-state=live]');

  await attempt('presence: B shows online in A\'s list and header, offline with "last seen" after B closes the page', async () => {
    await openChat(a, emailB);
    await a.waitForFunction(() => document.querySelector('[data-testid=peer-status]').dataset.state === 'online', null, { timeout: WAIT });
    const onlineDot = await dotOf(a, emailB);
    const ctxB = b.context();
    await b.close();
    const t0 = Date.now();
    await a.waitForFunction(() => /^last seen /.test(document.querySelector('[data-testid=peer-status]').textContent),
      null, { timeout: OFFLINE_WITHIN + 5000 });
    const took = Date.now() - t0;
    console.log(`# offline shown ${took} ms after B closed the page (bound ${OFFLINE_WITHIN} ms)`);
    const offlineDot = await dotOf(a, emailB);
    b = await newPage(ctxB);
    return onlineDot === 'true' && offlineDot === 'false' && took <= OFFLINE_WITHIN;
  });

  await attempt('presence: B shows online within 2 s of opening the page', async () => {
    const t0 = Date.now();
    await b.goto(BASE);
    await a.waitForFunction(() => document.querySelector('[data-testid=peer-status]').dataset.state === 'online',
      null, { timeout: WAIT });
    const took = Date.now() - t0;
    console.log(`# online shown ${took} ms after B started loading the page`);
    await b.waitForSelector('[data-testid=conn][data-state=live]');
    return took <= 2000 && (await dotOf(a, emailB)) === 'true';
  });

  await attempt('typing: B typing shows "typing…" at A, and a message from B clears it', async () => {
    await openChat(b, emailA);
    const typingPosts = [];
    const onReq = (r) => { if (r.method() === 'POST' && r.url().includes('/api/typing')) typingPosts.push(Date.now()); };
    b.on('request', onReq);
    await b.getByTestId('text').pressSequentially('hello amy, how', { delay: 40 });
    await a.waitForFunction(() => document.querySelector('[data-testid=peer-status]').dataset.state === 'typing',
      null, { timeout: WAIT });
    const inList = await a.$(`${person(emailB)} [data-testid=typing]`);
    // typing for 5 s: a signal at most every 2 s
    const until = Date.now() + 5000;
    while (Date.now() < until) await b.getByTestId('text').press('a', { delay: 100 });
    b.off('request', onReq);
    await b.getByTestId('text').fill('hello amy');
    await b.getByTestId('text').press('Enter');
    await waitText(a, 'hello amy', WAIT);
    const after = await status(a);
    const gaps = typingPosts.slice(1).map((t, i) => t - typingPosts[i]);
    console.log(`# ${typingPosts.length} typing POSTs in ~6 s of typing, ${gaps.join(', ')} ms apart; A's header after the message: ${after.text}`);
    return !!inList && after.state !== 'typing' && typingPosts.length >= 2 && gaps.every((g) => g >= 1800)
      && !(await a.$(`${person(emailB)} [data-testid=typing]`));
  });

  await attempt('typing: "typing…" ends by itself a few seconds after B stops', async () => {
    await sleep(1200);   // the server takes one signal a second
    await b.getByTestId('text').pressSequentially('still', { delay: 30 });
    await a.waitForFunction(() => document.querySelector('[data-testid=peer-status]').dataset.state === 'typing',
      null, { timeout: WAIT });
    const t0 = Date.now();
    await a.waitForFunction(() => document.querySelector('[data-testid=peer-status]').dataset.state !== 'typing',
      null, { timeout: WAIT });
    const took = Date.now() - t0;
    console.log(`# typing shown for ${took} ms after the last keystroke's signal`);
    await b.getByTestId('text').fill('');
    return took >= 2000;
  });

  await attempt('read receipts: "Seen" under my last message once B has it on screen', async () => {
    // B looks at the list (phone-style back), so A's message stays unread
    await b.evaluate(() => document.body.classList.remove('in-conversation'));
    await send(a, 'did you see this?');
    await waitUnread(b, emailA, 1);
    await sleep(1000);
    const before = await seenOn(a);
    await openChat(b, emailA);
    await a.waitForFunction(() => [...document.querySelectorAll('#message-list [data-testid=seen]')]
      .some((e) => e.closest('li').querySelector('.text').textContent === 'did you see this?'), null, { timeout: WAIT });
    const after = await seenOn(a);
    console.log(`# seen before B read: [${before}]; after: [${after}]`);
    return !before.includes('did you see this?') && after.length === 1;
  });

  let b2;
  await attempt("unread: B's count is the same on two devices, unchanged by reload, cleared on both by reading on one", async () => {
    b2 = await newPage();   // another browser, same user
    await logIn(b2, BASE, emailB);
    await b.evaluate(() => document.body.classList.remove('in-conversation'));
    for (const t of ['u1', 'u2', 'u3']) await post(a, { sender: ids.a, receiver: ids.b, content: t });
    await waitUnread(b, emailA, 3);
    await waitUnread(b2, emailA, 3);
    await b2.reload();
    await b2.waitForSelector('[data-testid=conn][data-state=live]');
    await sleep(2000);   // the stream's backlog has been replayed by now
    const afterReload = await unreadOf(b2, emailA);
    const title = await b2.title();
    await openChat(b, emailA);
    await waitText(b, 'u3', WAIT);
    await waitUnread(b2, emailA, 0);
    await b2.reload();
    await b2.waitForSelector('[data-testid=conn][data-state=live]');
    await sleep(2000);
    const afterRead = await unreadOf(b2, emailA);
    console.log(`# B2 after reload: ${afterReload} (title "${title}"), after B read and a reload: ${afterRead}`);
    return afterReload === 3 && title === '(3) Payload Chat' && afterRead === 0;
  });

  await attempt('a hidden tab: a notification for a new message, and the unread total in the title', async () => {
    // B's first device looks away: its reading would clear B2's count at once
    await b.evaluate(() => document.body.classList.remove('in-conversation'));
    await b2.context().grantPermissions(['notifications'], { origin: new URL(BASE).origin });
    await b2.addInitScript(spyOnNotifications);
    await b2.reload();
    await b2.waitForSelector('[data-testid=conn][data-state=live]');
    await openChat(b2, emailA);
    await sleep(1000);
    await setHidden(b2, true);
    await post(a, { sender: ids.a, receiver: ids.b, content: 'while you were away' });
    await b2.waitForFunction(() => window.__notes.length > 0, null, { timeout: WAIT });
    const notes = await b2.evaluate(() => window.__notes);
    await b2.waitForFunction(() => document.title === '(1) Payload Chat', null, { timeout: WAIT });
    await setHidden(b2, false);
    await b2.waitForFunction(() => document.title === 'Payload Chat', null, { timeout: WAIT });
    console.log(`# notifications: ${JSON.stringify(notes)}`);
    return notes.length === 1 && notes[0].title === emailA && notes[0].body === 'while you were away';
  });

  await attempt('no notification and no count while the conversation is on screen', async () => {
    await post(a, { sender: ids.a, receiver: ids.b, content: 'you are looking' });
    await waitText(b2, 'you are looking', WAIT);
    await sleep(1500);
    const notes = await b2.evaluate(() => window.__notes.length);
    return notes === 1 && (await b2.title()) === 'Payload Chat' && (await unreadOf(b2, emailA)) === 0;
  });

  await attempt('the "Enable notifications" button shows while the permission is to be asked', async () => {
    const fresh = await newPage();
    await logIn(fresh, BASE, emailC);
    const shownThere = await fresh.getByTestId('notify').isVisible();
    const hiddenWhenGranted = !(await b2.getByTestId('notify').isVisible());
    await fresh.context().close();
    return shownThere && hiddenWhenGranted;
  });

  await attempt('the conversation list orders by the last message, live and after a reload', async () => {
    await post(a, { sender: ids.a, receiver: ids.c, content: 'to cid' });
    await a.waitForFunction((e) => document.querySelector('[data-testid=person]')?.dataset.email === e, emailC, { timeout: WAIT });
    const first = await listOrder(a);
    await post(b, { sender: ids.b, receiver: ids.a, content: 'bob again' });
    await a.waitForFunction((e) => document.querySelector('[data-testid=person]')?.dataset.email === e, emailB, { timeout: WAIT });
    const second = await listOrder(a);
    await a.reload();
    await a.waitForSelector(person(emailC));
    const reloaded = await listOrder(a);
    const preview = await a.$eval(`${person(emailC)} [data-testid=preview]`, (e) => e.textContent);
    const time = await a.$eval(`${person(emailC)} [data-testid=conv-time]`, (e) => e.textContent);
    console.log(`# ${first} / ${second} / after reload ${reloaded}; preview "${preview}" at ${time}`);
    return first.join() === [emailC, emailB].join() && second.join() === [emailB, emailC].join()
      && reloaded.join() === second.join() && preview === 'You: to cid' && /\d/.test(time);
  });

  await attempt('search within a conversation: only the matches, then everything again', async () => {
    await openChat(a, emailB);
    await waitText(a, 'bob again', WAIT);
    const all = (await shown(a)).length;
    await a.getByTestId('conv-search').fill('AGAIN');
    await a.waitForFunction(() => !document.querySelector('[data-testid=search-status]').hidden, null, { timeout: WAIT });
    await sleep(300);
    const found = (await shown(a)).map((m) => m.text);
    const said = await a.getByTestId('search-status').textContent();
    await a.getByTestId('conv-search').fill('');
    await a.waitForFunction((n) => document.querySelectorAll('#message-list li[data-testid=message]').length === n,
      all, { timeout: WAIT });
    console.log(`# ${all} messages; "AGAIN" found [${found}] (${said})`);
    return found.join() === 'bob again' && said.startsWith('1 message');
  });

  await attempt('the list pages past its first 20 conversations; the search finds anyone', async () => {
    const d = await newPage();
    const emailD = `dee-${run}@example.com`;
    await signUp(d, BASE, emailD);
    const origin = new URL(BASE).origin;
    const ids21 = [];
    for (let i = 0; i < 21; i += 1) {
      const r = await d.request.post(`${origin}/api/users`, { headers: { Origin: origin },
        data: { email: `pal${String(i).padStart(2, '0')}-${run}@example.com`, password: 'password123' } });
      if (r.status() !== 201) throw new Error(`sign-up ${r.status()}`);
      ids21.push((await r.json()).doc.id);
    }
    for (const [i, id] of ids21.entries()) await post(d, { sender: await myId(d), receiver: id, content: `hi pal ${i}` });
    await d.reload();
    await d.waitForSelector('[data-testid=person]');
    const firstPage = (await listOrder(d)).length;
    const more = await d.getByTestId('more-conversations').isVisible();
    await d.getByTestId('more-conversations').click();
    await d.waitForFunction(() => document.querySelectorAll('[data-testid=person]').length === 21, null, { timeout: WAIT });
    const order = await listOrder(d);
    await d.getByTestId('people-search').fill(`cid-${run}`);
    await d.waitForFunction((e) => [...document.querySelectorAll('[data-testid=person]')].map((x) => x.dataset.email).join() === e,
      emailC, { timeout: WAIT });
    await d.context().close();
    return firstPage === 20 && more && order[0] === `pal20-${run}@example.com` && order[20] === `pal00-${run}@example.com`;
  });

  await attempt('open mode: the pick list loads 20 users at most and finds anyone by email', async () => {
    const p = await newPage();
    const asked = [];
    p.on('request', (r) => { if (r.url().includes('/api/users?')) asked.push(new URL(r.url()).searchParams.get('limit')); });
    const email = `zz-open-${run}@example.com`;
    await p.request.post(new URL('/api/users', OPEN).href,
      { data: { email, password: 'password123' }, headers: { Origin: new URL(OPEN).origin } });
    await p.goto(OPEN);
    await p.waitForSelector('[data-testid=pick-user]');
    const first = (await p.$$('[data-testid=pick-user]')).length;
    await p.getByTestId('pick-search').fill('zz-open-');
    await p.waitForSelector(`[data-testid=pick-user]:text-is("${email}")`);
    console.log(`# pick list: ${first} users first; limits asked: ${asked}`);
    return first <= 20 && asked.every((l) => Number(l) <= 20);
  });

  await attempt('open mode: presence, typing and "Seen" between two signed-up users', async () => {
    const o1 = await newPage();
    const o2 = await newPage();
    const e1 = `ola-${run}@example.com`;
    const e2 = `oli-${run}@example.com`;
    await signUp(o1, OPEN, e1);
    await signUp(o2, OPEN, e2);
    await openChat(o1, e2);
    await o1.waitForFunction(() => document.querySelector('[data-testid=peer-status]').dataset.state === 'online', null, { timeout: WAIT });
    await send(o1, 'hello from open mode');
    await openChat(o2, e1);
    await waitText(o2, 'hello from open mode', WAIT);
    await o1.waitForSelector('#message-list [data-testid=seen]', { timeout: WAIT });
    await o2.getByTestId('text').pressSequentially('typing here', { delay: 30 });
    await o1.waitForFunction(() => document.querySelector('[data-testid=peer-status]').dataset.state === 'typing', null, { timeout: WAIT });
    await o1.context().close();
    await o2.context().close();
    return true;
  });

  await attempt('members mode: a third user gets none of A and B\'s typing, receipts or conversation', async () => {
    // C has been logged in and streaming all along
    const signals = await c.evaluate(() => window.__signals);
    const aliens = signals.filter((x) => (x.type === 'typing' ? x.data.to !== ids.c
      : x.data.user !== ids.c && x.data.peer !== ids.c));
    const cConvs = await c.evaluate(async () => (await (await fetch('/api/conversations')).json()).docs.map((d) => d.peer.email));
    const listed = await listOrder(c);
    console.log(`# C got ${signals.length} typing/read events, ${aliens.length} about others; C's conversations: ${cConvs}`);
    return aliens.length === 0 && cConvs.join() === emailA && listed.join() === emailA;
  });

  await attempt('the page after all this: screenshot saved', async () => {
    mkdirSync(SHOT_DIR, { recursive: true });
    await a.screenshot({ path: `${SHOT_DIR}/social.png` });
    return true;
  });

  await attempt('no script error on the pages', async () => {
    if (errors.length) console.log(`# page errors: ${errors.join(' | ')}`);
    return errors.length === 0;
  });

  for (const ctx of contexts) await ctx.close().catch(() => {});
  await browser.close();
}

runTest(main, 360);
