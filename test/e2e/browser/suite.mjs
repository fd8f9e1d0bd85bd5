// Real-browser suite for Gatehouse's pages, run by ./run against `gatehouse
// demo`:  node suite.mjs BASE_URL ARTIFACTS_DIR
//
// Every story gets a fresh browser context. On every page it visits the suite
// fails on console errors (CSP violations are console errors), uncaught page
// errors, requests to any origin other than Gatehouse's and the demo IdP's
// (aborted and recorded), and inputs without a label; it saves a full-page
// screenshot as NN-story-step.png. One line per check, then "N passed, N failed".
import { chromium } from 'playwright-core';
import crypto from 'node:crypto';
import path from 'node:path';

const [baseArg, artifacts] = process.argv.slice(2);
if (!baseArg || !artifacts) {
  console.error('usage: node suite.mjs BASE_URL ARTIFACTS_DIR');
  process.exit(2);
}
const base = new URL(baseArg).origin;
// The demo's sample IdP listens on the port after Gatehouse's.
const idpURL = new URL(base);
idpURL.port = String(Number(idpURL.port) + 1);
const idp = idpURL.origin;
const allowedOrigins = new Set([base, idp]);
const PASSWORD = 'gatehouse-demo';
const TIMEOUT = 15_000;

// ---------------------------------------------------------------- checks

let passed = 0;
let failed = 0;
function record(ok, name, detail) {
  if (ok) passed++; else failed++;
  console.log(`${ok ? 'PASS' : 'FAIL'}  ${name}${detail ? `: ${detail}` : ''}`);
}
async function check(name, fn) {
  try {
    const detail = await fn();
    record(true, name, typeof detail === 'string' ? detail : '');
  } catch (e) {
    record(false, name, (e && e.message ? e.message : String(e)).split('\n')[0]);
    throw new StoryAbort();
  }
}
class StoryAbort extends Error {}
function assert(cond, msg) { if (!cond) throw new Error(msg); }

// ---------------------------------------------------------------- TOTP (RFC 6238, SHA-1, 6 digits, 30 s)

function base32Decode(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0, value = 0;
  const out = [];
  for (const ch of s.toUpperCase().replace(/[\s=]/g, '')) {
    const i = alphabet.indexOf(ch);
    if (i < 0) throw new Error(`not base32: ${ch}`);
    value = (value << 5) | i; bits += 5;
    if (bits >= 8) { out.push((value >>> (bits - 8)) & 0xff); bits -= 8; }
  }
  return Buffer.from(out);
}
function totp(secret, step) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const h = crypto.createHmac('sha1', secret).update(msg).digest();
  const off = h[h.length - 1] & 0x0f;
  const bin = ((h[off] & 0x7f) << 24) | (h[off + 1] << 16) | (h[off + 2] << 8) | h[off + 3];
  return String(bin % 1_000_000).padStart(6, '0');
}
const currentStep = () => Math.floor(Date.now() / 1000 / 30);

// ---------------------------------------------------------------- browser and pages

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

let shotNo = 0;

// A story: a fresh context and page with the listeners every page needs.
async function story(id, title, fn, contextOptions = {}) {
  console.log(`-- (${id}) ${title}`);
  const context = await browser.newContext({ ...contextOptions });
  context.setDefaultTimeout(TIMEOUT);
  context.setDefaultNavigationTimeout(TIMEOUT);
  const s = { id, page: null, problems: [], held: new Map() };
  await context.route('**/*', async (route) => {
    const u = new URL(route.request().url());
    if (!allowedOrigins.has(u.origin)) {
      s.problems.push(`request to another origin: ${route.request().method()} ${u.href}`);
      return route.abort('blockedbyclient');
    }
    const hold = s.held.get(u.origin + u.pathname);
    if (hold) await hold.promise;
    return route.continue();
  });
  const page = await context.newPage();
  s.page = page;
  // An error page's own HTTP status (the no-seat page is a 403) makes
  // Chromium log "Failed to load resource" for the document itself: that is
  // checked as the page's expected status (shot's status option) instead.
  const docStatus = new Map();
  s.docStatus = docStatus;
  page.on('response', (r) => {
    if (r.request().isNavigationRequest() && r.frame() === page.mainFrame()) docStatus.set(r.url(), r.status());
  });
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const st = /^Failed to load resource: the server responded with a status of (\d+)/.exec(m.text());
    if (st && docStatus.get(m.location().url) === Number(st[1])) return;
    s.problems.push(`console error on ${page.url()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => s.problems.push(`page error on ${page.url()}: ${e.message}`));
  try {
    await fn(s);
    await check(`(${id}) whole story: no console errors, CSP violations or other origins`, () => {
      assert(s.problems.length === 0, s.problems.join(' | '));
    });
  } catch (e) {
    if (!(e instanceof StoryAbort)) record(false, `(${id}) ${title}`, e.message.split('\n')[0]);
    if (s.problems.length) console.log(`      problems so far: ${s.problems.join(' | ')}`);
    try { await shot(s, 'failure', { checks: false }); } catch { /* the page may be gone */ }
  } finally {
    for (const h of s.held.values()) h.release();
    await context.close();
  }
}

// hold delays requests for origin+pathname until release() is called.
function hold(s, url) {
  let release;
  const promise = new Promise((r) => { release = r; });
  s.held.set(url, { promise, release });
  return () => { s.held.delete(url); release(); };
}

// shot: the page a person sees now. Checks it (no problems so far, every
// input labelled) and saves NN-story-step.png.
async function shot(s, step, { checks = true, status = 200 } = {}) {
  const { page } = s;
  const name = `${String(++shotNo).padStart(2, '0')}-${s.id}-${step}.png`;
  await page.screenshot({ path: path.join(artifacts, name), fullPage: true });
  if (!checks) return;
  const where = new URL(page.url());
  // No page may scroll sideways, at any size: it is how a layout bug shows.
  const [sw, iw] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  let culprits = [];
  if (sw > iw) {
    culprits = await page.evaluate(() => [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > window.innerWidth)
      .map((e) => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).replace(/\s+/g, '.') : '')).slice(0, 3));
  }
  await check(`(${s.id}) ${name} ${where.pathname}: no horizontal scroll`, async () => {
    assert(sw <= iw, `scrollWidth ${sw} > innerWidth ${iw} (${culprits.join(', ')})`);
  });
  await check(`(${s.id}) ${name} ${where.origin === base ? '' : 'IdP '}${where.pathname}: clean and labelled`, async () => {
    assert(s.problems.length === 0, s.problems.join(' | '));
    const got = s.docStatus.get(page.url());
    assert(got === undefined || got === status, `HTTP status ${got}, want ${status}`);
    const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input:not([type=hidden])')]
      // aria-hidden inputs are not exposed to assistive technology at all
      // (the password page's username field, there for password managers).
      .filter((i) => i.closest('[aria-hidden="true"]') === null)
      .filter((i) => !(i.labels && i.labels.length > 0) && !i.getAttribute('aria-label') && !i.getAttribute('aria-labelledby'))
      .map((i) => i.outerHTML));
    assert(unlabelled.length === 0, `inputs without a label: ${unlabelled.join(' ')}`);
  });
}

async function expectHeading(page, text) {
  await page.locator('h1', { hasText: text }).first().waitFor();
}

// clickAndWait clicks and waits for the navigation it starts to reach a URL.
async function clickAndWait(page, locator, url) {
  await Promise.all([page.waitForURL(url), locator.click()]);
}

async function emailStep(s, email) {
  const { page } = s;
  await page.goto(`${base}/login`);
  await expectHeading(page, 'Sign in');
  await page.getByLabel('Email address').fill(email);
}

async function passwordStep(s, password = PASSWORD) {
  const { page } = s;
  await expectHeading(page, 'Enter your password');
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

const home = (u) => u.origin === base && u.pathname === '/';

// ---------------------------------------------------------------- stories

try {
  await story('a', 'bob signs in through the sample SAML IdP', async (s) => {
    const { page } = s;
    await emailStep(s, 'bob@acme.example');
    await shot(s, 'login');
    // Hold sso.js so the "taking you to your company's sign-in" page stays
    // long enough to be seen; then let it send the browser on.
    const release = hold(s, `${base}/static/sso.js`);
    await page.getByRole('button', { name: 'Continue' }).click();
    await expectHeading(page, "Taking you to your company's sign-in");
    await shot(s, 'redirecting');
    release();
    await page.waitForURL((u) => u.origin === idp);
    await page.getByRole('button', { name: /bob@acme\.example/ }).waitFor();
    await shot(s, 'sample-idp');
    await clickAndWait(page, page.getByRole('button', { name: /bob@acme\.example/ }), home);
    await expectHeading(page, 'Welcome');
    await check('(a) home shows bob@acme.example', async () => {
      const text = await page.locator('main').innerText();
      assert(text.includes('bob@acme.example'), `main says: ${text}`);
    });
    await shot(s, 'home');
  });

  await story('b', 'ada uses her password, enrols TOTP, signs in again with a code', async (s) => {
    const { page } = s;
    await emailStep(s, 'ada@acme.example');
    await page.getByRole('button', { name: 'Continue' }).click();
    await expectHeading(page, 'How do you want to sign in?');
    await check('(b) choice page offers "Continue with SSO" and "Use password"', async () => {
      await page.getByRole('link', { name: 'Continue with SSO' }).waitFor();
      await page.getByRole('link', { name: 'Use password' }).waitFor();
    });
    await shot(s, 'choice');
    await page.getByRole('link', { name: 'Use password' }).click();
    await expectHeading(page, 'Enter your password');
    await shot(s, 'password');
    await passwordStep(s);
    await page.waitForURL(home);
    await expectHeading(page, 'Welcome');
    await check('(b) home shows ada@acme.example', async () => {
      assert((await page.locator('main').innerText()).includes('ada@acme.example'), 'no ada@acme.example on home');
    });
    await shot(s, 'home');

    await page.getByRole('link', { name: 'Security settings' }).click();
    await expectHeading(page, 'Security');
    await shot(s, 'security-off');
    await page.getByRole('button', { name: 'Set up authenticator app' }).click();
    await expectHeading(page, 'Set up authenticator app');
    await page.locator('img.qr').waitFor();
    await check('(b) enrolment page shows the QR code image', async () => {
      const ok = await page.locator('img.qr').evaluate((img) => img.complete && img.naturalWidth > 0);
      assert(ok, 'QR code image did not load');
    });
    await shot(s, 'enroll');
    const secret = base32Decode(await page.locator('code.key').innerText());
    const enrolStep = currentStep();
    await page.getByLabel('Enter the 6-digit code the app shows').fill(totp(secret, enrolStep));
    await page.getByRole('button', { name: 'Turn on' }).click();
    await expectHeading(page, 'Save your recovery codes');
    await check('(b) 10 recovery codes shown', async () => {
      const n = await page.locator('ol.codes li').count();
      assert(n === 10, `${n} codes`);
    });
    await shot(s, 'recovery-codes');
    await page.getByRole('link', { name: 'I have saved my recovery codes' }).click();
    await expectHeading(page, 'Security');
    await check('(b) security page says the authenticator app is on', async () => {
      const t = await page.locator('main').innerText();
      assert(/\bOn\./.test(t) && t.includes('Recovery codes left: 10'), `security page says: ${t}`);
    });
    await shot(s, 'security-on');
    await page.getByRole('link', { name: 'Back to home' }).click();
    await expectHeading(page, 'Welcome');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((u) => u.origin === base && u.pathname !== '/');
    await page.getByLabel('Email address').waitFor();
    await shot(s, 'signed-out');

    await page.getByLabel('Email address').fill('ada@acme.example');
    await page.getByRole('button', { name: 'Continue' }).click();
    await expectHeading(page, 'How do you want to sign in?');
    await page.getByRole('link', { name: 'Use password' }).click();
    await passwordStep(s);
    await expectHeading(page, 'Two-step verification');
    await shot(s, 'code');
    // The enrolment used enrolStep's code; the next step's is still within
    // the server's window of one step either side for the next 30-60 s.
    await page.getByLabel('Code from your authenticator app').fill(totp(secret, enrolStep + 1));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(home);
    await expectHeading(page, 'Welcome');
    await check('(b) signed in again with password + TOTP code', async () => {
      assert((await page.locator('main').innerText()).includes('ada@acme.example'), 'no ada@acme.example on home');
    });
    await shot(s, 'home-after-totp');
  });

  await story('c', 'pat chooses Globex, then the password', async (s) => {
    const { page } = s;
    await emailStep(s, 'pat@consult.example');
    await page.getByRole('button', { name: 'Continue' }).click();
    await expectHeading(page, 'Choose an account');
    await shot(s, 'choose-account');
    await page.getByLabel(/Globex/).check();
    await page.getByRole('button', { name: 'Continue' }).click();
    await expectHeading(page, 'Enter your password');
    await shot(s, 'password');
    await passwordStep(s);
    await page.waitForURL(home);
    await expectHeading(page, 'Welcome');
    await check('(c) home shows pat@consult.example in Globex', async () => {
      const t = await page.locator('main').innerText();
      assert(t.includes('pat@consult.example') && t.includes('Globex'), `main says: ${t}`);
    });
    await shot(s, 'home');
  });

  await story('d', 'newhire at the sample IdP gets the no-seat page', async (s) => {
    const { page } = s;
    // An email Gatehouse does not know is answered like a password user's
    // (no enumeration), so newhire gets to the sample IdP the way the demo
    // banner says: through Acme's SSO, then she picks herself there.
    await emailStep(s, 'bob@acme.example');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL((u) => u.origin === idp);
    await page.getByRole('button', { name: /newhire@acme\.example/ }).waitFor();
    await shot(s, 'sample-idp');
    await clickAndWait(page, page.getByRole('button', { name: /newhire@acme\.example/ }), (u) => u.origin === base);
    await expectHeading(page, 'No seat at');
    await check('(d) no-seat page names newhire and tells her to ask her administrator', async () => {
      const t = await page.locator('main').innerText();
      assert(t.includes('newhire@acme.example') && /administrator/.test(t), `main says: ${t}`);
    });
    await shot(s, 'no-seat', { status: 403 });
  });

  await story('e', 'a wrong password shows the generic error', async (s) => {
    const { page } = s;
    await emailStep(s, 'gina@globex.example');
    await page.getByRole('button', { name: 'Continue' }).click();
    await passwordStep(s, 'not-the-password');
    await page.getByRole('alert').waitFor();
    await check('(e) role="alert" says "Incorrect email or password."', async () => {
      const t = (await page.getByRole('alert').innerText()).trim();
      assert(t === 'Incorrect email or password.', `alert says: ${t}`);
    });
    await shot(s, 'wrong-password');
  });

  await story('f', 'keyboard only on /login', async (s) => {
    const { page } = s;
    await page.goto(`${base}/login`);
    await expectHeading(page, 'Sign in');
    // Start from the top of the page, not from the autofocused field.
    await page.evaluate(() => document.activeElement && document.activeElement.blur());
    const focused = () => page.evaluate(() => {
      const e = document.activeElement;
      return e ? `${e.tagName.toLowerCase()}#${e.id}:${(e.textContent || '').trim()}` : '';
    });
    let tabs = 0;
    while (tabs < 5 && !(await focused()).startsWith('input#email')) { await page.keyboard.press('Tab'); tabs++; }
    await check('(f) Tab reaches the email field', async () => {
      const f = await focused();
      assert(f.startsWith('input#email'), `focus is on ${f} after ${tabs} Tabs`);
      return `after ${tabs} Tab(s)`;
    });
    await page.keyboard.type('gina@globex.example');
    await page.keyboard.press('Tab');
    await check('(f) the next Tab reaches the Continue button', async () => {
      const f = await focused();
      assert(f.startsWith('button') && f.endsWith(':Continue'), `focus is on ${f}`);
    });
    await shot(s, 'login-focus-on-continue');
    await page.keyboard.press('Enter');
    await expectHeading(page, 'Enter your password');
    await check('(f) Enter submitted the form', async () => {
      assert((await page.locator('main').innerText()).includes('gina@globex.example'), 'password page does not name gina');
    });
    await shot(s, 'password');
  });

  await story('g', 'phone size 375x667: no horizontal scroll', async (s) => {
    const { page } = s;
    const noHScroll = async (what) => check(`(g) ${what}: no horizontal scroll at 375x667`, async () => {
      const [sw, iw] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
      assert(sw <= iw, `scrollWidth ${sw} > innerWidth ${iw}`);
      return `scrollWidth ${sw}, innerWidth ${iw}`;
    });
    await emailStep(s, 'ada@acme.example');
    await noHScroll('/login');
    await shot(s, 'login');
    await page.getByRole('button', { name: 'Continue' }).click();
    await expectHeading(page, 'How do you want to sign in?');
    await noHScroll('SSO choice');
    await shot(s, 'choice');
    // ada has an authenticator app by now (story b): home as gina.
    await emailStep(s, 'gina@globex.example');
    await page.getByRole('button', { name: 'Continue' }).click();
    await expectHeading(page, 'Enter your password');
    await noHScroll('password page');
    await passwordStep(s);
    await page.waitForURL(home);
    await expectHeading(page, 'Welcome');
    await noHScroll('home');
    await shot(s, 'home');
  }, { viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
} finally {
  await browser.close();
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
