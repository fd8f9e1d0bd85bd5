// The setup link stories of the browser suite (issue 14, part 7): Globex's
// admin makes a setup link for a new SAML configuration; the person who
// runs Globex's IdP opens it in a browser with no Gatehouse session, sees
// the values to copy and the Connect step, and cannot reach Enable; the
// admin revokes the link, which then only says to ask for a new one.
import { story, shot, check, assert, expectHeading, signInWithPassword, isHome, mainText } from './lib.mjs';

export async function setupLinkStories({ base }) {
  // What one story leaves for the next.
  let link = '';
  let linkRoot = '';
  let linksPage = '';
  let configName = '';
  let holderState = null;

  await story('setup-link-make', 'gina makes a setup link for a new configuration, for whoever runs Globex\'s IdP', async (s) => {
    const { page } = s;
    await signInWithPassword(s, 'gina@globex.example');
    await page.waitForURL(isHome);
    await page.goto(`${base}/admin`);
    await expectHeading(page, 'Authentication');
    await page.getByRole('link', { name: 'Set up SSO' }).click();
    await expectHeading(page, 'choose your identity provider');
    await page.getByLabel('SAML 2.0 (Another SAML 2.0 identity provider)').check();
    await page.getByRole('button', { name: 'Continue' }).click();
    await expectHeading(page, 'Set up your identity provider');
    configName = /sso-[a-z0-9]+/.exec(await page.locator('h1').innerText())[0];
    await page.getByRole('link', { name: 'Send them a setup link' }).click();
    await expectHeading(page, `Setup links: ${configName}`);
    await check('(setup-link-make) the page says what a link opens, and there is none yet', async () => {
      const t = await mainText(page);
      assert(t.includes('opens the Set up, Connect and Test steps') && t.includes('No setup links yet'), `main says: ${t}`);
    });
    await shot(s, 'links-none');
    await page.getByLabel('Who it is for (optional)').fill('Greta, Globex IdP admin');
    await page.getByRole('button', { name: 'Make a setup link' }).click();
    await page.getByRole('heading', { name: 'Send this link' }).waitFor();
    link = await page.getByLabel('Setup link for Greta, Globex IdP admin').inputValue();
    linksPage = page.url();
    await check('(setup-link-make) the new link is shown once, with its key, and listed as working', async () => {
      const u = new URL(link);
      assert(u.origin === base && /^\/setup\/sln_[a-z0-9]+$/.test(u.pathname) && (u.searchParams.get('key') || '').length >= 26, `link ${link}`);
      const t = await mainText(page);
      assert(t.includes('it is shown this once') && t.includes('Greta, Globex IdP admin') && t.includes('Works until'), `main says: ${t}`);
    });
    linkRoot = new URL(link).pathname;
    await shot(s, 'link-made');
    await page.goto(linksPage);
    await check('(setup-link-make) opened again, the page no longer shows the link', async () => {
      assert(await page.locator('#new-link').count() === 0, 'the link is shown again');
      assert(!(await page.content()).includes(new URL(link).searchParams.get('key')), 'the key is on the page');
    });
  });

  await story('setup-link-open', 'the IdP\'s admin opens the link with no Gatehouse session: values to copy, Connect, no Enable', async (s) => {
    const { page, context } = s;
    await page.goto(link);
    await page.waitForURL(`${base}${linkRoot}/setup`);
    await expectHeading(page, `Set up your identity provider: ${configName}`);
    await check('(setup-link-open) the key left the address bar, and the values to copy are shown', async () => {
      assert(!page.url().includes('key='), `address ${page.url()}`);
      const acs = await page.getByLabel('Assertion Consumer Service (ACS) URL', { exact: true }).inputValue();
      const entity = await page.getByLabel('SP entity ID (audience)', { exact: true }).inputValue();
      assert(acs.startsWith(`${base}/sso/saml/`) && acs.endsWith('/acs') && entity === acs.replace(/\/acs$/, '/metadata'), `ACS ${acs}, entity ${entity}`);
      await page.getByRole('button', { name: 'Copy Assertion Consumer Service (ACS) URL' }).waitFor();
    });
    await check('(setup-link-open) the steps are Set up, Connect and Test only; no administration, no sign-out', async () => {
      const steps = page.getByRole('navigation', { name: 'Setup steps' });
      for (const name of [/^Set up/, 'Connect', 'Test']) await steps.getByRole('link', { name }).waitFor();
      assert(await steps.getByRole('link', { name: 'Enable' }).count() === 0, 'the steps offer Enable');
      assert(await page.getByRole('navigation', { name: 'Administration' }).count() === 0, 'the administration navigation is shown');
      assert(await page.getByRole('button', { name: 'Sign out' }).count() === 0, 'a Sign out button is shown');
      const t = await mainText(page);
      assert(t.includes('Globex asks you to connect its sign-in') && t.includes("Turning it on stays with Globex's administrators"), `main says: ${t}`);
    });
    await shot(s, 'setup');

    await page.getByRole('link', { name: 'Next: connect your identity provider' }).click();
    await expectHeading(page, `Connect your identity provider: ${configName}`);
    await check('(setup-link-open) Connect offers the metadata import and the IdP\'s fields', async () => {
      await page.getByLabel('Metadata URL').waitFor();
      await page.getByLabel('IdP entity ID (issuer)').waitFor();
      await page.getByRole('button', { name: 'Save and continue' }).waitFor();
      assert(await page.getByRole('link', { name: 'Leave without saving' }).count() === 0, 'a way into the admin pages is offered');
    });
    await shot(s, 'connect');

    const enable = await page.goto(`${base}${linkRoot}/enable`);
    await check('(setup-link-open) Enable, typed into the address bar, is not found', async () => {
      assert(enable.status() === 404, `status ${enable.status()}`);
    });
    await shot(s, 'enable-not-found', { status: 404 });
    holderState = await context.storageState();
  });

  await story('setup-link-revoke', 'gina revokes the link', async (s) => {
    const { page } = s;
    await signInWithPassword(s, 'gina@globex.example');
    await page.waitForURL(isHome);
    await page.goto(linksPage);
    await expectHeading(page, `Setup links: ${configName}`);
    await page.locator('#setup-links tr', { hasText: 'Greta, Globex IdP admin' }).getByRole('button', { name: /^Revoke/ }).click();
    await page.getByRole('status').filter({ hasText: 'The setup link was revoked' }).waitFor();
    await check('(setup-link-revoke) the list shows the link as revoked', async () => {
      const row = await page.locator('#setup-links tr', { hasText: 'Greta, Globex IdP admin' }).innerText();
      assert(row.includes('Revoked'), `row says: ${row}`);
    });
    await shot(s, 'revoked');
  });

  await story('setup-link-revoked', 'the IdP\'s admin comes back to the revoked link: ask for a new one', async (s) => {
    const { page } = s;
    const again = await page.goto(`${base}${linkRoot}/connect`);
    await expectHeading(page, 'This setup link was revoked');
    await check('(setup-link-revoked) the page says to ask the admin for a new link, and shows nothing of the configuration', async () => {
      assert(again.status() === 410, `status ${again.status()}`);
      const t = await mainText(page);
      assert(t.includes('Ask the administrator who sent you this link for a new one'), `main says: ${t}`);
      assert(!t.includes(configName) && await page.locator('input').count() === 0, `main says: ${t}`);
    });
    await shot(s, 'revoked-page', { status: 410 });
    const followed = await page.goto(link);
    await check('(setup-link-revoked) followed again with its key, the link says the same', async () => {
      assert(followed.status() === 410, `status ${followed.status()}`);
      await expectHeading(page, 'This setup link was revoked');
    });
  }, { storageState: holderState || undefined });
}
