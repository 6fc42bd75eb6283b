// Shared steps on the chat page for the browser tests (chat.mjs, client.mjs).
import { chromium } from 'playwright-core';

export const launch = () => chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

// Fills the sign-in form and presses `button` (signup or login): the chat
// shows with a live stream.
async function signIn(page, base, email, button) {
  await page.goto(base);
  await page.getByTestId('email').fill(email);
  await page.getByTestId('password').fill('password123');
  await page.getByTestId(button).click();
  await page.waitForSelector('#chat:not([hidden])', { timeout: 15000 });
  await page.waitForSelector('[data-testid=conn][data-state=live]', { timeout: 15000 });
}

export const signUp = (page, base, email) => signIn(page, base, email, 'signup');

export const person = (email) => `[data-testid=person][data-email="${email}"]`;

// Opens the conversation with email, found with the search box when the
// list (people talked with, then the first users A-Z) does not show them.
export async function openChat(page, email) {
  const searched = !(await page.$(person(email)));
  if (searched) {
    await page.getByTestId('people-search').fill(email);
    await page.waitForSelector(person(email));
  }
  await page.click(person(email));
  if (searched) await page.getByTestId('people-search').fill('');
}

export async function send(page, text) {
  await page.getByTestId('text').fill(text);
  await page.getByTestId('text').press('Enter');
}

// Texts of the messages shown, in order, and their ids.
export const shown = (page) => page.$$eval('#message-list li[data-testid=message]',
  (els) => els.map((e) => ({ id: e.dataset.id, text: e.querySelector('.text')?.textContent })));

export const waitText = (page, text, timeout = 2000) => page.waitForFunction(
  (t) => [...document.querySelectorAll('#message-list .text')].some((e) => e.textContent === t),
  text, { timeout });

export const unreadOf = (page, email) => page.$eval(`${person(email)} [data-testid=unread]`,
  (e) => (e.hidden ? 0 : Number(e.textContent)));

// Logs in an existing user (another device of them: a context of its own).
export const logIn = (page, base, email) => signIn(page, base, email, 'login');

export const myId = (page) => page.evaluate(() => Number(localStorage.getItem('pchat.me')));

// The tab as hidden or visible to the page: document.hidden and
// visibilityState overridden, then a visibilitychange event (headless
// Chromium keeps every page visible).
export const setHidden = (page, hidden) => page.evaluate((h) => {
  if (h) {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
  } else {
    delete document.visibilityState;
    delete document.hidden;
  }
  document.dispatchEvent(new Event('visibilitychange'));
}, hidden);

// POST /api/messages from the page (its cookie), with extra fields.
export const post = (page, body) => page.evaluate(async (b) => {
  const r = await fetch('/api/messages?depth=0', { method: 'POST', credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(b) });
  if (!r.ok) throw new Error(`POST ${r.status} ${await r.text()}`);
  return (await r.json()).doc;
}, body);
