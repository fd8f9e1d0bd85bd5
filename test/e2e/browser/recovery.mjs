// The recovery stories of the browser suite (issue 15, part 3), against the
// demo, which keeps its mail on the DEMO ONLY outbox page: gina forgets her
// password, follows the emailed link and sets a new one, then changes it
// back on her security page; bob, who must use Acme's SSO, is told so by
// email; gina locks her email with wrong passwords, sees until when, and
// provider support unlocks her on Globex's People page.
import {
  story, shot, check, assert, expectHeading, clickAndWait, emailStep, passwordStep,
  isHome, signInWithPassword, mainText, PASSWORD,
} from './lib.mjs';

const NEW_PASSWORD = 'a brand new passphrase 42';

// newestMail opens the demo's outbox and returns the newest message to to.
async function newestMail(s, base, to) {
  const { page } = s;
  await page.goto(`${base}/demo/outbox`);
  await expectHeading(page, 'Sent mail (DEMO ONLY)');
  const mail = page.locator('article.mail', { has: page.locator('.mail-to', { hasText: to }) }).first();
  await mail.waitFor();
  return { subject: await mail.locator('h2').innerText(), text: await mail.locator('.mail-body').innerText() };
}

export async function recoveryStories({ base }) {
  await story('r1', 'gina forgets her password and resets it from the emailed link', async (s) => {
    const { page } = s;
    await emailStep(s, 'gina@globex.example');
    await page.getByRole('button', { name: 'Continue' }).click();
    await expectHeading(page, 'Enter your password');
    await clickAndWait(page, page.getByRole('link', { name: 'Forgot password?' }), (u) => u.pathname === '/login/forgot');
    await expectHeading(page, 'Reset your password');
    await check('(r1) the forgot page has her email filled in', async () => {
      assert(await page.getByLabel('Email address').inputValue() === 'gina@globex.example', 'email not filled in');
    });
    await shot(s, 'forgot');
    await page.getByRole('button', { name: 'Send me a link' }).click();
    await expectHeading(page, 'Check your email');
    await shot(s, 'forgot-sent');

    const mail = await newestMail(s, base, 'gina@globex.example');
    await shot(s, 'outbox');
    const link = /http\S+\/login\/reset\?token=\S+/.exec(mail.text);
    await check('(r1) the email holds a reset link', async () => {
      assert(mail.subject === 'Reset your password for Globex' && link, `mail: ${mail.subject} ${mail.text}`);
    });
    await page.goto(link[0]);
    await expectHeading(page, 'Choose a new password');
    await check('(r1) the reset page does not keep the token in its address', async () => {
      assert(!page.url().includes('token='), page.url());
    });
    await shot(s, 'reset');
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('New password again').fill(NEW_PASSWORD);
    await clickAndWait(page, page.getByRole('button', { name: 'Set new password' }), (u) => u.pathname === '/login');
    await check('(r1) the sign-in page says the password is changed', async () => {
      const text = await mainText(page);
      assert(text.includes('Your password is changed'), text);
    });
    await shot(s, 'reset-done');

    // The link works once.
    await page.goto(link[0]);
    await expectHeading(page, 'This link no longer works');
    await shot(s, 'link-used', { status: 410 });

    await emailStep(s, 'gina@globex.example');
    await page.getByRole('button', { name: 'Continue' }).click();
    await passwordStep(s, NEW_PASSWORD);
    await page.waitForURL(isHome);

    // Back to the demo's password, on her security page.
    await page.goto(`${base}/account/security`);
    await expectHeading(page, 'Security settings');
    await page.getByLabel('Current password').fill(NEW_PASSWORD);
    await page.getByLabel('New password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('New password again').fill(PASSWORD);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Your password is changed. Every other browser and app signed in as you is signed out.').waitFor();
    await shot(s, 'password-changed');
  });

  await story('r2', 'bob, who signs in with Acme\'s SSO, is told so by email', async (s) => {
    const { page } = s;
    await page.goto(`${base}/login/forgot`);
    await page.getByLabel('Email address').fill('bob@acme.example');
    await page.getByRole('button', { name: 'Send me a link' }).click();
    await expectHeading(page, 'Check your email');
    const mail = await newestMail(s, base, 'bob@acme.example');
    await check('(r2) the email points to the company\'s sign-in, with no link', async () => {
      assert(mail.text.includes("Use your company's sign-in") && !mail.text.includes('token='), mail.text);
    });
  });

  await story('r3', 'gina locks her email; support unlocks her', async (s) => {
    const { page } = s;
    await emailStep(s, 'gina@globex.example');
    await page.getByRole('button', { name: 'Continue' }).click();
    for (let i = 0; i < 6; i++) await passwordStep(s, `wrong guess ${i}`);
    await page.getByText(/locked until \d\d:\d\d UTC/).waitFor();
    await shot(s, 'locked', { status: 429 });

    const admin = await s.context.browser().newContext();
    const support = { ...s, page: await admin.newPage() };
    await signInWithPassword(support, 'support@provider.example');
    await support.page.waitForURL(isHome);
    await support.page.goto(`${base}/admin/accounts`);
    const href = await support.page.getByRole('link', { name: 'Globex', exact: true }).first().getAttribute('href');
    await support.page.goto(`${base}${href.replace(/\/authentication$/, '/people')}`);
    await expectHeading(support.page, 'People');
    const row = support.page.locator('tr', { hasText: 'gina@globex.example' });
    await check('(r3) the People page shows gina locked', async () => {
      const text = await row.innerText();
      assert(/Locked until/.test(text), text);
    });
    await row.getByRole('button', { name: 'Unlock gina@globex.example' }).click();
    await support.page.getByText('Unlocked gina@globex.example').waitFor();
    await admin.close();

    await signInWithPassword(s, 'gina@globex.example');
    await page.waitForURL(isHome);
  });
}
