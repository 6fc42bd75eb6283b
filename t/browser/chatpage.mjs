// Shared steps on the chat page for the browser tests (chat.mjs, client.mjs).
import { chromium } from 'playwright-core';

export const launch = () => chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

export async function signUp(page, base, email) {
  await page.goto(base);
  await page.getByTestId('email').fill(email);
  await page.getByTestId('password').fill('password123');
  await page.getByTestId('signup').click();
  await page.waitForSelector('#chat:not([hidden])', { timeout: 10000 });
  await page.waitForSelector('[data-testid=conn][data-state=live]', { timeout: 10000 });
}

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
