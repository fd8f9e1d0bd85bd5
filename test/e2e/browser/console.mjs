// The console stories of the browser suite (issue 14): turning SSO off is
// deliberate (a dialog that says who loses SSO, asks for a reason the
// account's other admins see, and Undo afterwards), and the sign-in
// history and audit log fit a 1280 px window with the Reference in view.
import {
  story, shot, check, assert, expectHeading, isHome, signInWithPassword, mainText,
} from './lib.mjs';

export async function consoleStories({ base }) {
  // accountPage opens an account's page from the accounts list, as a
  // partition or super admin does.
  async function accountPage(s, account, link) {
    const { page } = s;
    await page.getByRole('link', { name: 'Accounts' }).first().click();
    await expectHeading(page, 'Accounts');
    await page.locator('tr', { hasText: account }).getByRole('link', { name: `${link} of ${account}` }).click();
  }

  await story('sso-off', 'support turns Acme\'s SSO off through the dialog with a reason; the reseller\'s admin sees why and uses Undo', async (s) => {
    const { page } = s;
    await signInWithPassword(s, 'support@provider.example');
    await page.waitForURL(isHome);
    await accountPage(s, 'Acme', 'Authentication');
    await expectHeading(page, 'Authentication');
    const on = page.locator('#sso-configs').getByRole('switch', { checked: true });
    const name = /sso-[a-z0-9]+/.exec(await on.textContent())[0];
    await on.click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: `Turn off ${name}` }).waitFor();
    await check('(sso-off) the switch asks first: how many people lose SSO, who they are, and whether they have a password', async () => {
      const t = await dialog.innerText();
      // Acme's people: bob, carol, dave and pat sign in only through SSO;
      // ada, its admin, has SSO beside her password.
      assert(t.includes(`Turn off ${name}?`) && t.includes('5 people lose SSO and must sign in with a password instead'), t);
      assert(t.includes('All of them have a password set'), t);
      await dialog.getByText('Who loses SSO (5)').click();
      const people = await dialog.locator('ul.people li').allInnerTexts();
      for (const who of ['bob@acme.example', 'carol@acme.example', 'dave@acme.example', 'pat@consult.example', 'ada@acme.example']) {
        assert(people.some((p) => p.includes(who)), `${who} is not listed: ${people.join(', ')}`);
      }
    });
    await shot(s, 'disable-dialog');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await check('(sso-off) Cancel closes the dialog and turns nothing off', async () => {
      await dialog.waitFor({ state: 'hidden' });
      await page.reload();
      assert(await page.locator('#sso-configs').getByRole('switch', { checked: true }).count() === 1, 'Cancel turned it off');
    });

    await page.locator('#sso-configs').getByRole('switch', { checked: true }).click();
    await dialog.getByLabel('Reason (optional)').fill('Ticket 31\nAcme is replacing its IdP');
    await dialog.getByRole('button', { name: `Turn off ${name}` }).click();
    await check('(sso-off) a reason on two lines is refused in the dialog, keeping the text; SSO stays on', async () => {
      await dialog.locator('#reason-error').waitFor();
      assert((await dialog.getByLabel('Reason (optional)').inputValue()).includes('replacing its IdP'), 'the typed reason is gone');
    });
    await shot(s, 'disable-refused');
    await dialog.getByLabel('Reason (optional)').fill('Ticket 31: Acme is replacing its IdP');
    await dialog.getByRole('button', { name: `Turn off ${name}` }).click();
    await page.getByRole('status').filter({ hasText: `${name} is disabled` }).waitFor();
    await check('(sso-off) the Authentication page says who turned SSO off and why, and offers Undo', async () => {
      const note = await page.locator('#sso-off').innerText();
      assert(note.includes(`support@provider.example turned off SSO configuration ${name}`) && note.includes('Reason given: Ticket 31: Acme is replacing its IdP'), note);
      await page.getByRole('button', { name: `Undo: turn ${name} back on` }).waitFor();
      assert(await page.locator('#sso-configs').getByRole('switch', { checked: false }).count() === 1, 'the switch is not off');
    });
    await shot(s, 'disabled');
    await page.getByRole('button', { name: 'Sign out' }).click();

    // Another admin of Acme (its reseller's) sees the same, and undoes it.
    await signInWithPassword(s, 'rita@reseller.example');
    await page.waitForURL(isHome);
    await accountPage(s, 'Acme', 'Authentication');
    await expectHeading(page, 'Authentication');
    await check('(sso-off) the account\'s other admins see who turned SSO off and the reason', async () => {
      const note = await page.locator('#sso-off').innerText();
      assert(note.includes('support@provider.example') && note.includes('Ticket 31: Acme is replacing its IdP'), note);
    });
    await page.getByRole('button', { name: `Undo: turn ${name} back on` }).click();
    await page.getByRole('status').filter({ hasText: `${name} is enabled again` }).waitFor();
    await check('(sso-off) Undo turns it back on without a new Test, and the notice of it goes', async () => {
      assert(await page.locator('#sso-configs').getByRole('switch', { checked: true }).count() === 1, 'the switch is not on');
      assert(await page.locator('#sso-off').count() === 0, 'the turned-off notice still shows');
    });
    await shot(s, 'undone');
    await accountPage(s, 'Acme', 'Audit log');
    await page.getByLabel('Category').selectOption({ label: 'SSO configurations' });
    await page.getByRole('button', { name: 'Show' }).click();
    await check('(sso-off) the audit log keeps the reason with the disable, and the undo naming it', async () => {
      const rows = page.locator('table.records tbody tr');
      const undo = rows.nth(0);
      const off = rows.nth(1);
      await undo.locator('summary').click();
      await off.locator('summary').click();
      const [u, o] = [await undo.innerText(), await off.innerText()];
      const ref = (await off.locator('code.reference').innerText()).trim();
      assert(u.includes('sso_config.enable') && u.includes(`undo_of: ${ref}`) && u.includes('rita@reseller.example'), u);
      assert(o.includes('sso_config.disable') && o.includes('reason: Ticket 31: Acme is replacing its IdP') && o.includes('people_off_sso: 5'), o);
    });
    await shot(s, 'audit-undo');
  });

  await story('records-fit', 'the sign-in history and audit log fit 1280 px with the Reference in view', async (s) => {
    const { page } = s;
    await signInWithPassword(s, 'support@provider.example');
    await page.waitForURL(isHome);
    // fits: nothing in main scrolls sideways or reaches past it, and every
    // row's reference is whole, inside the table.
    const fits = (what) => check(`(records-fit) ${what} at 1280 px: no sideways scroll, every Reference whole and in view`, async () => {
      const r = await page.evaluate(() => {
        const main = document.querySelector('main').getBoundingClientRect();
        const table = document.querySelector('table.records');
        const scrollers = [...document.querySelectorAll('main *:not(input, select, textarea)')].filter((e) => e.scrollWidth > e.clientWidth + 1 &&
          ['auto', 'scroll'].includes(getComputedStyle(e).overflowX)).map((e) => e.tagName.toLowerCase() + '.' + e.className);
        const past = [...document.querySelectorAll('main *')].filter((e) => e.getBoundingClientRect().right > main.right + 1)
          .map((e) => e.tagName.toLowerCase() + '.' + e.className).slice(0, 3);
        const refs = [...table.querySelectorAll('td[data-label="Reference"]')].map((td) => {
          const code = td.querySelector('code.reference').getBoundingClientRect();
          const cell = td.getBoundingClientRect();
          return { inCell: code.left >= cell.left - 1 && code.right <= cell.right + 1, inView: code.right <= window.innerWidth };
        });
        const header = [...table.querySelectorAll('th')].find((th) => th.textContent.trim() === 'Reference');
        return { scrollers, past, refs, header: header && header.getBoundingClientRect().right <= window.innerWidth,
          width: window.innerWidth, sw: document.documentElement.scrollWidth };
      });
      assert(r.width === 1280, `window ${r.width} px wide`);
      assert(r.sw <= r.width, `the page scrolls sideways: ${r.sw}`);
      assert(r.scrollers.length === 0, `scrolls sideways: ${r.scrollers.join(', ')}`);
      assert(r.past.length === 0, `reaches past main: ${r.past.join(', ')}`);
      assert(r.header, 'the Reference column heading is out of view');
      assert(r.refs.length > 0 && r.refs.every((x) => x.inCell && x.inView), `references cut off: ${JSON.stringify(r.refs)}`);
      return `${r.refs.length} rows`;
    });

    // Initech's records are the fullest: the admin stories' sign-ins,
    // failures and break-glass.
    await accountPage(s, 'Initech', 'Sign-in history');
    await expectHeading(page, 'Sign-in history');
    await check('(records-fit) the history says what people were told, not that every failure was a wrong password', async () => {
      const t = await mainText(page);
      assert(!t.includes('People who failed were told only that the email or password was incorrect'), t.slice(0, 400));
      assert(t.includes('a failed SSO sign-in shows a page with a reference'), t.slice(0, 400));
    });
    await fits('the sign-in history');
    await page.locator('table.records tbody tr').first().locator('summary').click();
    await fits('the sign-in history with a row\'s details open');
    await shot(s, 'sign-in-history');

    await page.getByRole('link', { name: 'Audit log' }).click();
    await expectHeading(page, 'Audit log');
    await fits('the audit log');
    for (const summary of await page.locator('table.records summary').all()) await summary.click();
    await fits('the audit log with every row\'s details open');
    await shot(s, 'audit-log');
  }, { viewport: { width: 1280, height: 800 } });
}
