// Real-browser suite for Gatehouse's pages, run by ./run against `gatehouse
// demo` and a SimpleSAMLphp IdP:
//   node suite.mjs BASE_URL ARTIFACTS_DIR
// with SSP_URL, SSP_DIR and IDP_SH in the environment (the SimpleSAMLphp
// IdP's URL, its directory and the script that configures it).
//
// Every story gets a fresh browser context. On Gatehouse's pages (its own
// and the demo's sample IdP) the suite fails on console errors (CSP
// violations are console errors), uncaught page errors, inputs without a
// label, sideways scroll and axe-core violations; on every page, on requests
// to origins other than Gatehouse's and the IdPs' (aborted and recorded). It
// saves a full-page screenshot as NN-story-step.png. One line per check,
// then "N passed, N failed".
import {
  configure, browser, story, hold, shot, check, assert, tally, base32Decode, totp, currentStep,
  expectHeading, clickAndWait, emailStep, passwordStep, isHome as home, PASSWORD,
} from './lib.mjs';
import { adminStories } from './admin.mjs';
import { setupLinkStories } from './setuplink.mjs';
import { partitionStories } from './partition.mjs';
import { entraStories } from './entra.mjs';
import { failureStories } from './failures.mjs';
import { consoleStories } from './console.mjs';
import { recoveryStories } from './recovery.mjs';

const [baseArg, artifacts] = process.argv.slice(2);
const sspArg = process.env.SSP_URL;
if (!baseArg || !artifacts || !sspArg || !process.env.SSP_DIR || !process.env.IDP_SH) {
  console.error('usage: SSP_URL=... SSP_DIR=... IDP_SH=... node suite.mjs BASE_URL ARTIFACTS_DIR');
  process.exit(2);
}
const base = new URL(baseArg).origin;
// The demo's sample IdP listens on the port after Gatehouse's.
const idpURL = new URL(base);
idpURL.port = String(Number(idpURL.port) + 1);
const idp = idpURL.origin;
const ssp = new URL(sspArg).origin;
// The demo's two sample apps listen on the two ports after the IdP's.
const appOrigin = (n) => { const u = new URL(base); u.port = String(Number(u.port) + n); return u.origin; };
const [portal, uc] = [appOrigin(2), appOrigin(3)];
configure({ base, artifacts, allowedOrigins: [base, idp, ssp, portal, uc], checkedOrigins: [base, idp] });

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

  await story('o', 'bob signs in to the sample portal through Acme\'s IdP, the sample UC app asks nothing, and signing out of one signs out of both', async (s) => {
    const { page } = s;
    // Every page of Gatehouse's bob reaches is looked at for a password field.
    let sawPassword = false;
    page.on('load', async () => {
      try {
        if (new URL(page.url()).origin === base && await page.locator('input[type=password]').count() > 0) sawPassword = true;
      } catch { /* the page moved on */ }
    });
    await page.goto(`${portal}/`);
    await clickAndWait(page, page.getByRole('link', { name: 'Sign in with Gatehouse' }), (u) => u.origin === base && u.pathname === '/login');
    await expectHeading(page, 'Sign in');
    await page.getByLabel('Email address').fill('bob@acme.example');
    await check('(o) the email step asks for no password', async () => {
      assert(await page.locator('input[type=password]').count() === 0, 'the email step has a password field');
    });
    await shot(s, 'portal-sign-in');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL((u) => u.origin === idp);
    await check('(o) bob, forced to SSO, never saw a password field', async () => {
      assert(!sawPassword, 'a page of Gatehouse showed bob a password field');
    });
    await clickAndWait(page, page.getByRole('button', { name: /bob@acme\.example/ }), (u) => u.origin === portal);
    await check('(o) the sample portal shows bob\'s claims', async () => {
      const text = await page.locator('body').innerText();
      assert(text.includes('bob@acme.example') && text.includes('Signed in'), `portal says: ${text.slice(0, 300)}`);
    });
    await page.goto(`${uc}/login`);
    await page.waitForURL((u) => u.origin === uc && u.pathname === '/');
    await check('(o) the sample UC app signs bob in without asking', async () => {
      const text = await page.locator('body').innerText();
      assert(text.includes('bob@acme.example'), `UC app says: ${text.slice(0, 300)}`);
    });
    await clickAndWait(page, page.getByRole('link', { name: /Sign out/ }), (u) => u.origin === uc);
    await page.goto(`${portal}/`);
    await check('(o) signed out of the UC app, bob is signed out of the portal too', async () => {
      const text = await page.locator('body').innerText();
      assert(!text.includes('bob@acme.example') && text.includes('signed out'), `portal says: ${text.slice(0, 300)}`);
    });
  });

  await failureStories({ base, idp });
  await adminStories({ base, idp, ssp, sspDir: process.env.SSP_DIR, idpSh: process.env.IDP_SH });
  await setupLinkStories({ base });
  await entraStories({ base });
  await consoleStories({ base, idp, ssp });
  await partitionStories();
  await recoveryStories({ base });
} finally {
  await browser.close();
}

const { passed, failed } = tally();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
