// The partition stories of the browser suite (issue 14, part 5): a
// reseller's partition admin has the partition level in the pages: the
// partition's own Authentication page, the wizard for a partition's
// configuration, and on each account the choice to use the partition's SSO.
import {
  story, shot, check, assert, expectHeading, isHome, signInWithPassword, mainText,
} from './lib.mjs';

export async function partitionStories() {
  await story('partition', 'rita, the reseller\'s partition admin, opens the partition\'s SSO and sets Globex to use it', async (s) => {
    const { page } = s;
    await signInWithPassword(s, 'rita@reseller.example');
    await page.waitForURL(isHome);
    await page.goto(new URL('/admin', page.url()).href);
    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Partition SSO' }).click();
    await expectHeading(page, 'Partition SSO');
    await check('(partition) the partition\'s page offers its own SSO configurations and lists who uses them', async () => {
      const t = await mainText(page);
      assert(t.includes('SSO configurations') && t.includes('Accounts that use the partition\'s SSO'), t.slice(0, 500));
    });
    await shot(s, 'partition-authentication');

    await page.getByRole('link', { name: 'Set up SSO' }).click();
    await expectHeading(page, 'choose your identity provider');
    await page.getByLabel('SAML 2.0 (Another SAML 2.0 identity provider)').check();
    await page.getByRole('button', { name: 'Continue' }).click();
    await expectHeading(page, 'Set up your identity provider');
    await check('(partition) the wizard makes a configuration of the partition, with its own SP values', async () => {
      assert(new URL(page.url()).pathname.startsWith('/admin/partitions/'), page.url());
      const entityID = await page.getByLabel('SP entity ID (audience)', { exact: true }).inputValue();
      assert(/\/sso\/saml\/sso_[a-z0-9]+\/metadata$/.test(entityID), entityID);
    });
    await shot(s, 'partition-wizard');

    // Globex, on the standard plan, is told why it cannot use it yet;
    // Acme can.
    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Accounts' }).click();
    await page.locator('tr', { hasText: 'Acme' }).getByRole('link', { name: 'Authentication of Acme' }).click();
    await expectHeading(page, 'Authentication');
    await check('(partition) the account says whether it uses the partition\'s SSO', async () => {
      const t = await page.locator('section', { has: page.getByRole('heading', { name: 'The partition\'s SSO' }) }).innerText();
      assert(t.includes('does not use its partition\'s SSO'), t);
    });
    await page.getByRole('button', { name: 'Use the partition\'s SSO' }).click();
    await page.getByRole('status').filter({ hasText: 'This account now uses its partition\'s SSO.' }).waitFor();
    await shot(s, 'account-uses-partition-sso');
    await page.getByRole('link', { name: /Partition .*'s SSO configurations/ }).click();
    await expectHeading(page, 'Partition SSO');
    await check('(partition) the partition\'s page lists Acme as using its SSO, for its exempt users only', async () => {
      const t = await page.locator('#using-accounts').innerText();
      assert(t.includes('Acme') && t.includes('exempt users only'), t);
    });
    // Back as it was, for the stories after this one.
    await page.getByRole('link', { name: 'Acme' }).click();
    await page.getByRole('button', { name: 'Stop using the partition\'s SSO' }).click();
    await page.getByRole('status').filter({ hasText: 'no longer uses' }).waitFor();
  });
}
