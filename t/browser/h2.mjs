// The web client over HTTPS with HTTP/2 in headless Chromium (the test's
// self-signed certificate accepted): the page, the API and the stream share
// one h2 connection.  Prints TAP.  Run by t/browser/h2.t, which passes
// TLS_URL, the page on the TLS virtual host (open mode), and STREAM_URL,
// the stream on an HTTPS port with HTTP/1.1 only (the deployment recipe of
// conf/payloadchat-tls.conf, named to the page by a meta tag).
import { chromium } from 'playwright-core';
import { attempt, runTest, sleep } from './tap.mjs';
import { openChat } from './chatpage.mjs';

const URL_ = process.env.TLS_URL;
const run = Date.now();
const live = (p) => p.waitForSelector('[data-testid=conn][data-state=live]', { timeout: 10000 });
const count = (p, text) => p.$$eval('#message-list .text',
  (els, t) => els.filter((e) => e.textContent === t).length, text);
// Open mode's pick page: found by email, then picked.
async function pick(p, email) {
  await p.getByTestId('pick-search').fill(email);
  await p.click(`[data-testid=pick-user]:text-is("${email}")`);
}
const waitText = (p, text, timeout) => p.waitForFunction(
  (t) => [...document.querySelectorAll('#message-list .text')].some((e) => e.textContent === t),
  text, { timeout });

async function main() {
  console.log('1..6');
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--ignore-certificate-errors', '--disable-background-networking',
      // the recipe's page and stream are both on 127.0.0.1, which Chromium's
      // Local Network Access checks refuse across ports in this test setup
      '--disable-features=LocalNetworkAccessChecks',
      '--disable-component-update', '--disable-sync'],
  });
  const ctxA = await browser.newContext({ ignoreHTTPSErrors: true });
  const ctxB = await browser.newContext({ ignoreHTTPSErrors: true });
  const a = await ctxA.newPage();
  const b = await ctxB.newPage();
  for (const p of [a, b]) p.setDefaultTimeout(8000);
  const emailA = `h2a-${run}@example.com`;
  const emailB = `h2b-${run}@example.com`;
  const origin = new URL(URL_).origin;
  for (const email of [emailA, emailB]) {
    await a.request.post(`${origin}/api/users`, { data: { email, password: 'password123' } });
  }

  await attempt('both pages load over h2 and their streams go live', async () => {
    for (const [p, email] of [[a, emailA], [b, emailB]]) {
      await p.goto(URL_);
      await pick(p, email);
      await live(p);
    }
    const protos = await Promise.all([a, b].map((p) => p.evaluate(() =>
      performance.getEntriesByType('navigation')[0].nextHopProtocol)));
    return protos.every((x) => x === 'h2') || (() => { throw new Error(protos); })();
  });

  await attempt('B sees a message from A within 2 s', async () => {
    await openChat(b, emailA);
    await openChat(a, emailB);
    const t0 = Date.now();
    await a.getByTestId('text').fill('hello over h2');
    await a.getByTestId('text').press('Enter');
    await waitText(b, 'hello over h2', 2000);
    return Date.now() - t0 < 2000;
  });

  await attempt('after a network cut, B resumes and gets what it missed once', async () => {
    await ctxB.setOffline(true);
    await sleep(1000);
    await a.getByTestId('text').fill('while B was cut off');
    await a.getByTestId('text').press('Enter');
    await sleep(1000);
    await ctxB.setOffline(false);
    await waitText(b, 'while B was cut off', 10000);
    await live(b);
    await sleep(1500);   // a duplicate would have arrived by now
    return (await count(b, 'while B was cut off')) === 1
      && (await count(b, 'hello over h2')) === 1;
  });

  await attempt('B still gets live messages after the cut', async () => {
    await a.getByTestId('text').fill('after the cut');
    await a.getByTestId('text').press('Enter');
    await waitText(b, 'after the cut', 3000);
    return true;
  });

  await attempt('A still has its messages once each', async () =>
    (await count(a, 'hello over h2')) === 1 && (await count(a, 'after the cut')) === 1);

  await attempt('the recipe: a meta tag moves the stream to the HTTP/1.1 port', async () => {
    const ctxC = await browser.newContext({ ignoreHTTPSErrors: true });
    const c = await ctxC.newPage();
    await c.route(URL_, async (route) => {
      const res = await route.fetch();
      const html = (await res.text()).replace('<head>',
        `<head><meta name="payloadchat-stream" content="${process.env.STREAM_URL}">`);
      // as conf/payloadchat-tls.conf: the page's CSP lets it connect there
      const headers = res.headers();
      headers['content-security-policy'] = (headers['content-security-policy']
        || '').replace("connect-src 'self'",
                       `connect-src 'self' ${new URL(process.env.STREAM_URL).origin}`);
      await route.fulfill({ response: res, body: html, headers });
    });
    const streams = [];
    c.on('request', (r) => { if (r.url().includes('/messages/sse')) streams.push(r.url()); });
    await c.goto(URL_);
    await pick(c, emailB);
    await live(c);
    await openChat(c, emailA);
    await a.getByTestId('text').fill('to the other port');
    await a.getByTestId('text').press('Enter');
    await waitText(c, 'to the other port', 3000);
    await ctxC.close();
    return streams.length > 0 && streams.every((u) => u.startsWith(process.env.STREAM_URL))
      || (() => { throw new Error(streams.join(' ')); })();
  });

  await browser.close();
}

runTest(main, 90);
