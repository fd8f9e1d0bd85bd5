// What every story of the browser suite uses: the checks and their tally,
// TOTP codes, the browser, a story's context with the listeners every page
// needs, and shot(), which checks the page a person sees and saves it.
import { chromium } from 'playwright-core';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

// Set by configure().
let base, artifacts, allowedOrigins, checkedOrigins;
const TIMEOUT = 15_000;
// A full-page screenshot of a long page may take longer than an action
// when CI's other suites have just loaded the machine; it checks nothing
// itself, so it gets more time than the steps do.
const SCREENSHOT_TIMEOUT = 60_000;
export const PASSWORD = 'gatehouse-demo';

// axe-core runs in each page through the DevTools protocol (page.evaluate),
// which the page's Content-Security-Policy does not govern: the page is
// checked as it is served.
const require = createRequire(import.meta.url);
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];

// configure: Gatehouse's origin, where screenshots go, the origins a story
// may reach (others are aborted and recorded) and the origins whose pages
// are checked (Gatehouse's own; a third-party IdP's pages are only looked at).
export function configure(opts) {
  ({ base, artifacts } = opts);
  fs.mkdirSync(path.join(artifacts, 'visits'), { recursive: true });
  allowedOrigins = new Set(opts.allowedOrigins);
  checkedOrigins = new Set(opts.checkedOrigins);
}

// ---------------------------------------------------------------- checks

let passed = 0;
let failed = 0;
export function record(ok, name, detail) {
  if (ok) passed++; else failed++;
  console.log(`${ok ? 'PASS' : 'FAIL'}  ${name}${detail ? `: ${detail}` : ''}`);
}
export function tally() { return { passed, failed }; }

export class StoryAbort extends Error {}

// check runs one named check; a failed check ends its story.
export async function check(name, fn) {
  try {
    const detail = await fn();
    record(true, name, typeof detail === 'string' ? detail : '');
  } catch (e) {
    record(false, name, (e && e.message ? e.message : String(e)).split('\n')[0]);
    throw new StoryAbort();
  }
}
export function assert(cond, msg) { if (!cond) throw new Error(msg); }

// ---------------------------------------------------------------- TOTP (RFC 6238, SHA-1, 6 digits, 30 s)

export function base32Decode(s) {
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
export function totp(secret, step) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const h = crypto.createHmac('sha1', secret).update(msg).digest();
  const off = h[h.length - 1] & 0x0f;
  const bin = ((h[off] & 0x7f) << 24) | (h[off + 1] << 16) | (h[off + 2] << 8) | h[off + 3];
  return String(bin % 1_000_000).padStart(6, '0');
}
export const currentStep = () => Math.floor(Date.now() / 1000 / 30);

// ---------------------------------------------------------------- browser and pages

export const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

let shotNo = 0;

// story: a fresh context and page with the listeners every page needs. On
// a page of a checked origin it records console errors (CSP violations are
// console errors) and page errors; on any page, requests to an origin not
// allowed.
export async function story(id, title, fn, contextOptions = {}) {
  console.log(`-- (${id}) ${title}`);
  const context = await browser.newContext({ ...contextOptions });
  context.setDefaultTimeout(TIMEOUT);
  context.setDefaultNavigationTimeout(TIMEOUT);
  const s = { id, context, page: null, problems: [], held: new Map() };
  await context.route('**/*', async (route) => {
    const req = route.request();
    const u = new URL(req.url());
    if (!allowedOrigins.has(u.origin)) {
      s.problems.push(`request to another origin: ${req.method()} ${u.href}`);
      return route.abort('blockedbyclient');
    }
    // A page of Gatehouse's loads nothing from elsewhere, not even from
    // an IdP: only navigations (a link, a form, a redirect) leave.
    let from = '';
    try { from = new URL(req.frame().url()).origin; } catch { /* no frame yet */ }
    if (!req.isNavigationRequest() && checkedOrigins.has(from) && u.origin !== from) {
      s.problems.push(`a page of ${from} loaded ${req.resourceType()} from ${u.href}`);
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
    if (!checkedOrigins.has(new URL(page.url()).origin)) return;
    const st = /^Failed to load resource: the server responded with a status of (\d+)/.exec(m.text());
    if (st && docStatus.get(m.location().url) === Number(st[1])) return;
    s.problems.push(`console error on ${page.url()}: ${m.text()}`);
  });
  // Every page the story visits is saved too, as it looks once loaded, in
  // visits/ (the checked shots are the numbered files beside it).
  let visitNo = 0;
  page.on('load', async () => {
    const u = new URL(page.url());
    const file = `${id}-${String(++visitNo).padStart(2, '0')}-${u.port === new URL(base).port ? 'gatehouse' : u.port}${u.pathname.replace(/[^a-zA-Z0-9]+/g, '-')}.png`;
    try {
      await page.screenshot({ path: path.join(artifacts, 'visits', file), fullPage: true });
    } catch { /* the page moved on first: the next load is saved */ }
  });
  page.on('pageerror', (e) => {
    if (checkedOrigins.has(new URL(page.url()).origin)) s.problems.push(`page error on ${page.url()}: ${e.message}`);
  });
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

// hold delays requests for origin+pathname until the returned release is called.
export function hold(s, url) {
  let release;
  const promise = new Promise((r) => { release = r; });
  s.held.set(url, { promise, release });
  return () => { s.held.delete(url); release(); };
}

// shot: the page a person sees now, saved as NN-story-step.png. On
// Gatehouse's pages it checks: no problems so far, the expected HTTP
// status, no sideways scroll, every input labelled, and no axe-core
// violation of WCAG 2.x A/AA or its best practices.
export async function shot(s, step, { checks = true, status = 200 } = {}) {
  const { page } = s;
  const name = `${String(++shotNo).padStart(2, '0')}-${s.id}-${step}.png`;
  await page.screenshot({ path: path.join(artifacts, name), fullPage: true, timeout: SCREENSHOT_TIMEOUT });
  const where = new URL(page.url());
  if (!checks || !checkedOrigins.has(where.origin)) return;
  const label = `(${s.id}) ${name} ${where.origin === base ? '' : 'sample IdP '}${where.pathname}`;
  // No page may scroll sideways, at any size: it is how a layout bug shows.
  const [sw, iw] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  let culprits = [];
  if (sw > iw) {
    culprits = await page.evaluate(() => [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > window.innerWidth)
      .map((e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.replace(/\s+/g, '.') : '')).slice(0, 3));
  }
  await check(`${label}: no horizontal scroll`, async () => {
    assert(sw <= iw, `scrollWidth ${sw} > innerWidth ${iw} (${culprits.join(', ')})`);
  });
  await check(`${label}: clean and labelled`, async () => {
    assert(s.problems.length === 0, s.problems.join(' | '));
    const got = s.docStatus.get(page.url());
    assert(got === undefined || got === status, `HTTP status ${got}, want ${status}`);
    const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input:not([type=hidden]), textarea, select')]
      // aria-hidden inputs are not exposed to assistive technology at all
      // (the password page's username field, there for password managers).
      .filter((i) => i.closest('[aria-hidden="true"]') === null)
      .filter((i) => !(i.labels && i.labels.length > 0) && !i.getAttribute('aria-label') && !i.getAttribute('aria-labelledby'))
      .map((i) => i.outerHTML));
    assert(unlabelled.length === 0, `inputs without a label: ${unlabelled.join(' ')}`);
  });
  await check(`${label}: no accessibility violations (axe-core)`, async () => {
    const violations = await axe(page);
    assert(violations.length === 0, violations.join(' | '));
  });
}

// axe runs axe-core on the page and lists its violations, one line each.
export async function axe(page) {
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) await page.evaluate(axeSource);
  return page.evaluate(async (tags) => {
    const res = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return res.violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 2).map((n) => n.target.join(' ')).join(', ')}`);
  }, AXE_TAGS);
}

export async function expectHeading(page, text) {
  await page.locator('h1', { hasText: text }).first().waitFor();
}

// clickAndWait clicks and waits for the navigation it starts to reach a URL.
export async function clickAndWait(page, locator, url) {
  await Promise.all([page.waitForURL(url), locator.click()]);
}

export async function emailStep(s, email) {
  const { page } = s;
  await page.goto(`${base}/login`);
  await expectHeading(page, 'Sign in');
  await page.getByLabel('Email address').fill(email);
}

export async function passwordStep(s, password = PASSWORD) {
  const { page } = s;
  await expectHeading(page, 'Enter your password');
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

export const isHome = (u) => u.origin === base && u.pathname === '/';

// signInWithPassword takes email through the email and password steps of
// an account without SSO (or an admin choosing the password).
export async function signInWithPassword(s, email) {
  const { page } = s;
  await emailStep(s, email);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL((u) => u.pathname !== '/login');
  if (new URL(page.url()).pathname === '/login/way') await page.getByRole('link', { name: 'Use password' }).click();
  await passwordStep(s);
}

// mainText is what the page's main region says.
export async function mainText(page) {
  return page.locator('main').innerText();
}
