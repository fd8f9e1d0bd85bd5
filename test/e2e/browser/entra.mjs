// The Entra ID multi-tenant story of the browser suite (issue 14, part 6):
// ./run starts the demo with the provider's Entra ID application configured
// (ENTRA_CLIENT_ID, at the loopback authority ENTRA_AUTHORITY, where no
// Entra ID runs: the story only reads the consent link, it never follows
// it). Globex's admin chooses Microsoft Entra ID multi-tenant in the wizard,
// is asked for no client ID or secret, names the tenant, and is shown the
// admin consent link in Microsoft's v2.0 shape.
import { story, shot, check, assert, expectHeading, signInWithPassword, isHome, mainText } from './lib.mjs';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';

export async function entraStories({ base }) {
  const clientID = process.env.ENTRA_CLIENT_ID;
  const authority = process.env.ENTRA_AUTHORITY;
  if (!clientID || !authority) throw new Error('entraStories needs ENTRA_CLIENT_ID and ENTRA_AUTHORITY (./run sets them)');

  await story('entra', 'gina picks Entra ID multi-tenant: no app registration, her tenant, the admin consent link', async (s) => {
    const { page } = s;
    await signInWithPassword(s, 'gina@globex.example');
    await page.waitForURL(isHome);
    await page.goto(`${base}/admin`);
    await expectHeading(page, 'Authentication');
    await page.getByRole('link', { name: 'Set up SSO' }).click();
    await expectHeading(page, 'choose your identity provider');
    const multi = page.getByLabel(/^Multi-tenant: allow the provider's app into your tenant/);
    await check('(entra) the wizard offers Entra ID multi-tenant, enabled: the operator configured the provider\'s app', async () => {
      assert(await multi.isEnabled(), 'the multi-tenant choice is disabled');
      const t = await mainText(page);
      assert(!t.includes('Not available on this server'), `main says: ${t}`);
    });
    await multi.check();
    await page.getByRole('button', { name: 'Continue' }).click();
    await expectHeading(page, 'Set up Microsoft Entra ID');
    await check('(entra) the setup step asks to register nothing and has nothing to copy', async () => {
      const t = await mainText(page);
      assert(t.includes('Nothing to register') && t.includes('There is nothing to copy into Entra ID'), `main says: ${t}`);
      assert(!t.includes('Redirect URI'), 'a redirect URI to paste is shown');
    });
    await shot(s, 'setup');

    await page.getByRole('link', { name: /^Next: connect/ }).click();
    await expectHeading(page, 'Connect Microsoft Entra ID');
    await check('(entra) the connect step asks for the tenant only, no client ID or secret', async () => {
      assert(await page.getByLabel('Client secret').count() === 0, 'a client secret field is shown');
      assert(await page.getByLabel('Client ID').count() === 0, 'a client ID field is shown');
      assert((await mainText(page)).includes(clientID), 'the provider application\'s ID is not named');
    });
    await page.getByLabel('Your tenant ID or verified domain').fill(TENANT);
    await shot(s, 'connect');
    await page.getByRole('button', { name: 'Save and continue' }).click();
    await expectHeading(page, 'Test');

    const link = page.getByRole('link', { name: `Grant admin consent for tenant ${TENANT}` });
    await check('(entra) the Test step shows the admin consent link in Microsoft\'s v2.0 shape', async () => {
      const u = new URL(await link.getAttribute('href'));
      const q = u.searchParams;
      assert(u.origin === new URL(authority).origin && u.pathname === `/${TENANT}/v2.0/adminconsent`, `consent link ${u}`);
      assert(q.get('client_id') === clientID && q.get('redirect_uri') === `${base}/sso/entra/consent`, `consent link ${u}`);
      assert(/^sso_/.test(q.get('state') || '') && q.get('scope') === 'openid email profile', `consent link ${u}`);
    });
    await shot(s, 'test-consent-link');
  });
}
