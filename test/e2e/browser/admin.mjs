// The admin stories of the browser suite: Initech's admin sets up SSO with
// a real SimpleSAMLphp IdP in the wizard (metadata by URL, Test, an
// exemption, Enable through the preview dialog), then people sign in the
// ways the configuration gives them, the reference on an SSO error page is
// found in the audit log, and provider support breaks the glass.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  story, shot, check, assert, base32Decode, totp, currentStep, expectHeading, emailStep, passwordStep,
  isHome, signInWithPassword, mainText, PASSWORD,
} from './lib.mjs';

// The SimpleSAMLphp users ./run starts the IdP with: Initech's seats.
// newbie is at the IdP only: Initech has no seat for her.
const SSP_PASSWORDS = { alice: 'alicepass', bob: 'bobpass', newbie: 'newbiepass' };

export async function adminStories({ base, idp, ssp, sspDir, idpSh }) {
  const sspMetadata = `${ssp}/saml2/idp/metadata.php`;
  // What one story leaves for the next: ian's authenticator key, and the
  // configuration he made.
  let ianSecret = null;
  let ianLastStep = 0;
  let ianRecoveryCodes = [];
  let configName = '';

  // sspSignIn signs in at SimpleSAMLphp's login form.
  async function sspSignIn(s, user) {
    const { page } = s;
    await page.waitForURL((u) => u.origin === ssp);
    await page.locator('#username').fill(user);
    await page.locator('#password').fill(SSP_PASSWORDS[user]);
    await shot(s, 'simplesamlphp-login');
    await page.locator('#submit_button').click();
  }

  // nextCode is a TOTP code of ian's not used before: the server refuses a
  // step once used, and any earlier one.
  function nextCode() {
    const step = Math.max(currentStep(), ianLastStep + 1);
    ianLastStep = step;
    return totp(ianSecret, step);
  }

  await story('h', 'ian sets up SSO with SimpleSAMLphp: wizard, metadata URL, Test, exemption, Enable', async (s) => {
    const { page, context } = s;
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    await signInWithPassword(s, 'ian@initech.example');
    await page.waitForURL(isHome);

    // An admin's own way in stays password + TOTP: he sets up his app first.
    await page.getByRole('link', { name: 'Security settings' }).click();
    await page.getByRole('button', { name: 'Set up authenticator app' }).click();
    await expectHeading(page, 'Set up authenticator app');
    ianSecret = base32Decode(await page.locator('code.key').innerText());
    ianLastStep = currentStep();
    await page.getByLabel('Enter the 6-digit code the app shows').fill(totp(ianSecret, ianLastStep));
    await page.getByRole('button', { name: 'Turn on' }).click();
    await expectHeading(page, 'Save your recovery codes');
    ianRecoveryCodes = await page.locator('ol.codes li').allInnerTexts();
    await page.getByRole('link', { name: 'I have saved my recovery codes' }).click();
    await page.getByRole('link', { name: 'Back to home' }).click();

    await page.getByRole('link', { name: 'Authentication (SSO)' }).click();
    await expectHeading(page, 'Authentication');
    await check('(h) the Authentication section starts empty, with the Exemptions section', async () => {
      const t = await mainText(page);
      assert(t.includes('No SSO configuration yet') && t.includes('Exemptions'), `main says: ${t}`);
    });
    await shot(s, 'authentication-empty');

    await page.getByRole('link', { name: 'Set up SSO' }).click();
    await expectHeading(page, 'choose your identity provider');
    await check('(h) the wizard offers every IdP of the issue', async () => {
      const t = await mainText(page);
      const missing = ['Microsoft Entra ID', 'Okta', 'Google Workspace', 'Auth0', 'OneLogin', 'Salesforce', 'Microsoft AD FS',
        'Another SAML 2.0 identity provider', 'Another OpenID Connect identity provider'].filter((n) => !t.includes(n));
      assert(missing.length === 0, `missing: ${missing.join(', ')}`);
    });
    await shot(s, 'wizard-choose');
    await page.getByLabel('SAML 2.0 (Another SAML 2.0 identity provider)').check();
    await page.getByRole('button', { name: 'Continue' }).click();
    await expectHeading(page, 'Set up your identity provider');
    configName = /sso-[a-z0-9]+/.exec(await page.locator('h1').innerText())[0];

    const entityID = await page.getByLabel('SP entity ID (audience)', { exact: true }).inputValue();
    const acs = await page.getByLabel('Assertion Consumer Service (ACS) URL', { exact: true }).inputValue();
    await check('(h) the values to copy are this configuration\'s own', async () => {
      assert(entityID.startsWith(`${base}/sso/saml/`) && entityID.endsWith('/metadata'), `entity ID ${entityID}`);
      assert(acs === entityID.replace(/\/metadata$/, '/acs'), `ACS URL ${acs}`);
    });
    await page.getByRole('button', { name: 'Copy Assertion Consumer Service (ACS) URL' }).click();
    await check('(h) Copy puts the ACS URL on the clipboard and says so', async () => {
      const copied = await page.evaluate(() => navigator.clipboard.readText());
      assert(copied === acs, `clipboard holds ${copied}`);
      await page.locator('#announcer', { hasText: 'Copied the ACS URL' }).waitFor({ state: 'attached' });
    });
    const [download] = await Promise.all([page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download the SP metadata (XML)' }).click()]);
    await check('(h) the SP metadata downloads as a file naming the entity ID and ACS URL', async () => {
      const xml = fs.readFileSync(await download.path(), 'utf8');
      assert(download.suggestedFilename().endsWith('-sp-metadata.xml'), `file name ${download.suggestedFilename()}`);
      assert(xml.includes(`entityID="${entityID}"`) && xml.includes(`Location="${acs}"`), `metadata: ${xml.slice(0, 300)}`);
    });
    await shot(s, 'wizard-setup');

    // What the admin does in their IdP's console: here, SimpleSAMLphp's
    // list of service providers takes the two values from the page.
    execFileSync(idpSh, ['sp', sspDir, entityID, acs], { stdio: 'pipe' });

    await page.getByRole('link', { name: 'Next: connect your identity provider' }).click();
    await expectHeading(page, 'Connect your identity provider');
    await shot(s, 'wizard-connect');
    await page.getByLabel('Metadata URL').fill(sspMetadata);
    await page.getByRole('button', { name: 'Import from URL' }).click();
    await page.getByRole('status').filter({ hasText: 'Imported your identity provider' }).waitFor();
    const key1 = new crypto.X509Certificate(fs.readFileSync(path.join(sspDir, 'cert', 'idp1.crt')));
    await check('(h) the metadata import fills in the IdP\'s entity ID, SSO URL and certificate', async () => {
      const entity = await page.getByLabel('IdP entity ID (issuer)').inputValue();
      const sso = await page.getByLabel('IdP single sign-on URL').inputValue();
      assert(entity === sspMetadata, `entity ID ${entity}`);
      assert(sso === `${ssp}/saml2/idp/SSOService.php`, `SSO URL ${sso}`);
      const info = await page.locator('#cert-0-info').innerText();
      assert(info.includes('Gatehouse e2e SimpleSAMLphp IdP key 1') && info.includes(key1.fingerprint256), `certificate: ${info}`);
      assert((await page.locator('.subtitle .badge').innerText()) === 'Complete', 'status is not Complete');
    });
    await shot(s, 'wizard-imported');

    // A pasted certificate is described at once, before anything is saved.
    const key2 = fs.readFileSync(path.join(sspDir, 'cert', 'idp2.crt'), 'utf8');
    const rollover = page.getByLabel(/Another signing certificate/);
    await rollover.fill(key2);
    await check('(h) a pasted certificate shows its subject, fingerprint and expiry at once', async () => {
      const info = page.locator('#cert-1-info');
      await info.getByText('Gatehouse e2e SimpleSAMLphp IdP key 2').waitFor();
      const t = await info.innerText();
      const fp = new crypto.X509Certificate(key2).fingerprint256;
      assert(t.includes(fp) && t.includes('Valid until'), `shows: ${t}`);
    });
    await shot(s, 'wizard-certificate-preview');
    await rollover.fill('not a certificate');
    await page.locator('#cert-1-info').getByText('Not a certificate Gatehouse can use').waitFor();
    await rollover.fill('');

    await page.getByRole('button', { name: 'Save and continue' }).click();
    await expectHeading(page, 'Test');
    await shot(s, 'wizard-test');
    await page.getByRole('link', { name: 'Run test' }).click();
    await sspSignIn(s, 'alice');
    await page.waitForURL((u) => u.origin === base && u.pathname.startsWith('/sso/test-result/'));
    await expectHeading(page, 'passed');
    await check('(h) the test result shows what SimpleSAMLphp sent and whom it matched', async () => {
      const t = await mainText(page);
      assert(t.includes('alice@initech.example') && t.includes('Matches Alice Anders (alice@initech.example)') && t.includes('displayName'),
        `result: ${t}`);
    });
    await shot(s, 'test-passed');

    await exemptErin(s);

    // Enable from the table: the switch opens the preview in a dialog.
    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Authentication' }).click();
    await expectHeading(page, 'Authentication');
    await page.getByRole('switch', { name: `${configName} enabled` }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: `Enable ${configName}` }).waitFor();
    await check('(h) the preview says who is forced to SSO and who keeps a password, and why', async () => {
      const t = await dialog.innerText();
      assert(/Sign in through your identity provider only: 2/.test(t) && t.includes('alice@initech.example') && t.includes('bob@initech.example'),
        `forced: ${t}`);
      assert(/Keep their password.*: 2/.test(t) && /ian@initech\.example \(administrator/.test(t) && /erin@initech\.example \(on an exemption list\)/.test(t),
        `kept: ${t}`);
    });
    await shot(s, 'enable-preview-dialog');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await check('(h) Cancel closes the preview and enables nothing', async () => {
      await dialog.waitFor({ state: 'hidden' });
      const sw = page.getByRole('switch', { name: `${configName} enabled` });
      assert((await sw.getAttribute('aria-checked')) === 'false', 'Cancel enabled the configuration');
    });
    await page.getByRole('switch', { name: `${configName} enabled` }).click();
    await dialog.getByRole('button', { name: `Enable ${configName}` }).click();
    await page.getByRole('status').filter({ hasText: `${configName} is enabled` }).waitFor();
    await check('(h) the table shows the configuration enabled, and warns of its certificate expiring within 30 days', async () => {
      const sw = page.getByRole('switch', { name: `${configName} enabled` });
      assert((await sw.getAttribute('aria-checked')) === 'true', 'switch is off');
      // idp.sh makes 30-day certificates: inside the warning period at once.
      const t = await page.locator('#sso-configs').innerText();
      assert(t.includes('Signing certificate expires'), `table: ${t}`);
    });
    await shot(s, 'authentication-enabled');
  });

  // exemptErin puts erin on an exemption list in the Authentication section.
  async function exemptErin(s) {
    const { page } = s;
    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Authentication' }).click();
    await page.getByRole('link', { name: 'New exemption list' }).click();
    await page.getByLabel(/name/i).first().fill('Contractors');
    await page.getByLabel(/Specific users/).check();
    await page.getByRole('searchbox').fill('erin');
    const erin = page.getByRole('checkbox', { name: /erin@initech\.example/ });
    await erin.waitFor();
    await erin.check();
    await shot(s, 'exemption-new');
    await page.getByRole('button', { name: 'Save' }).click();
    await expectHeading(page, 'Authentication');
    await check('(h) the exemption list shows erin', async () => {
      const t = await mainText(page);
      assert(t.includes('Contractors') && t.includes('erin@initech.example'), `main says: ${t}`);
    });
    await shot(s, 'exemption-saved');
  }

  await story('i', 'alice signs in through Initech\'s SSO at SimpleSAMLphp', async (s) => {
    const { page } = s;
    await emailStep(s, 'alice@initech.example');
    await page.getByRole('button', { name: 'Continue' }).click();
    await sspSignIn(s, 'alice');
    await page.waitForURL(isHome);
    await check('(i) alice is signed in at Initech through SSO', async () => {
      const t = await mainText(page);
      assert(t.includes('alice@initech.example') && t.includes('Initech'), `home says: ${t}`);
    });
    await shot(s, 'home');
  });

  await story('j', 'ian, an admin, chooses his password, then his authenticator code', async (s) => {
    const { page } = s;
    await emailStep(s, 'ian@initech.example');
    await page.getByRole('button', { name: 'Continue' }).click();
    await expectHeading(page, 'How do you want to sign in?');
    await page.getByRole('link', { name: 'Use password' }).click();
    await passwordStep(s, PASSWORD);
    await expectHeading(page, 'Two-step verification');
    await page.getByLabel('Code from your authenticator app').fill(nextCode());
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(isHome);
    await check('(j) ian is signed in with password + TOTP', async () => {
      assert((await mainText(page)).includes('ian@initech.example'), 'home does not name ian');
    });
    await shot(s, 'home');
  });

  await story('k', 'erin, on the exemption list, signs in with her password', async (s) => {
    const { page } = s;
    await emailStep(s, 'erin@initech.example');
    await page.getByRole('button', { name: 'Continue' }).click();
    await expectHeading(page, 'Enter your password');
    await shot(s, 'password');
    await passwordStep(s, PASSWORD);
    await page.waitForURL(isHome);
    await check('(k) erin is signed in with her password while SSO governs Initech', async () => {
      assert((await mainText(page)).includes('erin@initech.example'), 'home does not name erin');
    });
    await shot(s, 'home');
  });

  await story('l', 'bob at Initech may not use a password: he is pointed to SSO', async (s) => {
    const { page } = s;
    await emailStep(s, 'bob@initech.example');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL((u) => u.origin === ssp);
    await check('(l) bob is sent straight to SimpleSAMLphp', async () => {
      assert(new URL(page.url()).pathname.includes('loginuserpass'), `at ${page.url()}`);
    });
  });

  // ianWithRecoveryCode signs ian in with his password and one of his
  // recovery codes: his authenticator's next code may not be due yet.
  async function ianWithRecoveryCode(s) {
    const { page } = s;
    await signInWithPassword(s, 'ian@initech.example');
    await expectHeading(page, 'Two-step verification');
    await page.getByLabel('Code from your authenticator app').fill(ianRecoveryCodes.shift());
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(isHome);
  }

  await story('m', 'the reference on newbie\'s error page leads ian to the audit event; history, phone and keyboard', async (s) => {
    const { page } = s;
    // newbie is known to the IdP only. Gatehouse answers an unknown email
    // like a password user's (no enumeration), so she reaches the IdP
    // through a colleague's email, as a person at a shared computer would.
    await emailStep(s, 'bob@initech.example');
    await page.getByRole('button', { name: 'Continue' }).click();
    await sspSignIn(s, 'newbie');
    await page.waitForURL((u) => u.origin === base);
    await expectHeading(page, 'No seat at Initech');
    await shot(s, 'no-seat', { status: 403 });
    const reference = (await page.locator('code.reference').innerText()).trim();

    await ianWithRecoveryCode(s);
    await page.getByRole('link', { name: 'Audit log' }).click();
    await expectHeading(page, 'Audit log');
    await page.getByLabel('Reference').fill(reference);
    await page.getByRole('button', { name: 'Show' }).click();
    await check('(m) the error page\'s reference finds exactly its audit event, with the precise reason', async () => {
      const rows = page.locator('table.records tbody tr');
      assert((await rows.count()) === 1, `${await rows.count()} rows`);
      const t = await rows.first().innerText();
      assert(t.includes(reference) && t.includes('newbie@initech.example') && /Failed/.test(t), `row: ${t}`);
    });
    await shot(s, 'audit-reference');

    await page.getByRole('link', { name: 'Sign-in history' }).click();
    await check('(m) the sign-in history shows alice\'s SSO sign-in and erin\'s password', async () => {
      const t = await mainText(page);
      assert(/alice@initech\.example[\s\S]*SAML SSO/.test(t) || /SAML SSO[\s\S]*alice@initech\.example/.test(t), `history: ${t.slice(0, 600)}`);
      assert(t.includes('erin@initech.example'), 'no erin in the history');
    });
    await shot(s, 'sign-in-history');

    // The same pages on a phone: one column, no sideways scroll.
    await page.setViewportSize({ width: 375, height: 740 });
    await shot(s, 'phone-sign-in-history');
    await page.getByRole('link', { name: 'Audit log' }).click();
    await shot(s, 'phone-audit');
    await page.getByRole('link', { name: 'Authentication' }).first().click();
    await expectHeading(page, 'Authentication');
    await shot(s, 'phone-authentication');
    await page.getByRole('link', { name: `Edit ${configName}` }).click();
    await expectHeading(page, 'Connect');
    await shot(s, 'phone-connect');
    await page.getByRole('link', { name: 'Set up your identity provider' }).click();
    await shot(s, 'phone-setup');
    await page.setViewportSize({ width: 1280, height: 720 });

    // By keyboard: the first Tab offers the skip link; the trash button
    // opens its dialog with the focus inside, Escape closes it and the
    // focus comes back.
    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Authentication' }).click();
    await expectHeading(page, 'Authentication');
    await page.keyboard.press('Tab');
    await check('(m) the first Tab reaches "Skip to content"', async () => {
      const f = await page.evaluate(() => document.activeElement.textContent.trim());
      assert(f === 'Skip to content', `focus on ${f}`);
    });
    const trash = page.getByRole('link', { name: 'Delete Contractors' });
    await trash.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: /Delete/ }).waitFor();
    await check('(m) the delete dialog takes the focus and names the list', async () => {
      const inside = await page.evaluate(() => document.getElementById('dialog').contains(document.activeElement));
      assert(inside, 'focus is outside the dialog');
      assert((await dialog.innerText()).includes('Contractors'), 'the dialog does not name the list');
    });
    await shot(s, 'delete-dialog');
    await page.keyboard.press('Escape');
    await check('(m) Escape closes the dialog, deletes nothing, and gives the focus back', async () => {
      await dialog.waitFor({ state: 'hidden' });
      const back = await page.evaluate(() => document.activeElement.textContent.trim());
      assert(back.includes('Delete Contractors'), `focus on ${back}`);
      assert((await mainText(page)).includes('erin@initech.example'), 'the list is gone');
    });
  });

  await story('m2', 'ian changes Initech\'s live configuration: the change waits for a Test, then he applies it', async (s) => {
    const { page } = s;
    await ianWithRecoveryCode(s);
    await page.getByRole('link', { name: 'Authentication (SSO)' }).click();
    await expectHeading(page, 'Authentication');
    await page.getByRole('link', { name: `Edit ${configName}` }).click();
    await expectHeading(page, 'Connect');
    await page.getByText('Advanced settings').click();
    await page.getByLabel('Clock skew (seconds)').fill('60');
    await page.getByRole('button', { name: 'Save as draft' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved as pending changes' }).waitFor();
    await check('(m2) an edit of the enabled configuration is saved as pending changes, shown in the form', async () => {
      assert((await page.getByLabel('Clock skew (seconds)').inputValue()) === '60', 'the form does not show the pending value');
      const note = await page.locator('#pending-note').innerText();
      assert(note.includes('Changes pending test') && note.includes('keep using the live settings'), `note: ${note}`);
    });
    await shot(s, 'pending-saved');

    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Authentication' }).click();
    await check('(m2) the table says "Enabled, changes pending test"', async () => {
      const row = page.locator('#sso-configs tbody tr', { hasText: configName });
      assert((await row.innerText()).includes('Enabled, changes pending test'), await row.innerText());
    });
    await shot(s, 'pending-table');

    // Apply waits for a Test; the Test signs in with the changes.
    await page.getByRole('link', { name: `Test the pending changes to ${configName}` }).click();
    await expectHeading(page, 'Test');
    await page.getByRole('link', { name: 'Run test' }).click();
    await sspSignIn(s, 'alice');
    await page.waitForURL((u) => u.origin === base && u.pathname.startsWith('/sso/test-result/'));
    await expectHeading(page, 'passed');

    await page.goto(`${base}/admin`);
    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Authentication' }).click();
    await expectHeading(page, 'Authentication');
    await page.getByRole('link', { name: `Review and apply the changes to ${configName}` }).click();
    await expectHeading(page, `Apply the changes to ${configName}?`);
    await check('(m2) the apply page shows the live and the tested value side by side', async () => {
      const t = await page.locator('#pending-changes').innerText();
      assert(/Clock skew[\s\S]*120[\s\S]*60/.test(t), `changes: ${t}`);
    });
    await shot(s, 'pending-apply');
    await page.getByRole('button', { name: 'Apply the changes' }).click();
    await page.getByRole('status').filter({ hasText: `The tested changes to ${configName} are applied` }).waitFor();
    await check('(m2) after Apply nothing is pending and the configuration stays enabled', async () => {
      const row = await page.locator('#sso-configs tbody tr', { hasText: configName }).innerText();
      assert(!row.includes('pending') && row.includes('Enabled'), row);
    });
    await shot(s, 'pending-applied');

    // The health view: alice's sign-ins, the certificate's days left, the
    // metadata URL it came from.
    await page.getByRole('link', { name: new RegExp(`Last sign-in .* through ${configName}`) }).click();
    await expectHeading(page, 'Health');
    await check('(m2) the health view names the latest sign-in, the certificate\'s days left and the metadata URL', async () => {
      const t = await mainText(page);
      assert(/Last successful sign-in\s+\d/.test(t), `health: ${t.slice(0, 400)}`);
      assert(t.includes('Days left') && t.includes(sspMetadata), `health: ${t}`);
    });
    await shot(s, 'health');
  });

  await story('m3', 'a new employee of Initech: her email goes to the company\'s sign-in, and she gets a seat there', async (s) => {
    const { page } = s;
    // ian gives new people a seat at their first sign-in (initech.example
    // is verified: the demo seeds it so, as there is no DNS zone here).
    await ianWithRecoveryCode(s);
    await page.getByRole('link', { name: 'Authentication (SSO)' }).click();
    await check('(m3) the Authentication page lists initech.example as verified', async () => {
      const t = await page.locator('#domains').innerText();
      assert(t.includes('initech.example') && t.includes('Verified'), t);
    });
    await page.getByRole('link', { name: new RegExp(`Last sign-in .* through ${configName}`) }).click();
    await expectHeading(page, 'Health');
    await page.getByLabel(/Give a seat \(role user\) at their first sign-in/).check();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'just-in-time seats are on' }).waitFor();
    await shot(s, 'jit-on');
    await page.getByRole('button', { name: 'Sign out' }).click();

    // newbie, with no seat, types her own email: straight to SimpleSAMLphp.
    await emailStep(s, 'newbie@initech.example');
    await page.getByRole('button', { name: 'Continue' }).click();
    await sspSignIn(s, 'newbie');
    await page.waitForURL(isHome);
    await check('(m3) newbie is signed in with the seat made for her', async () => {
      assert((await mainText(page)).includes('newbie@initech.example'), 'home does not name newbie');
    });
    await shot(s, 'new-employee-home');
  });

  await story('n', 'provider support breaks the glass for Initech; bob gets his password back; ian sees why', async (s) => {
    const { page } = s;
    await signInWithPassword(s, 'support@provider.example');
    await page.waitForURL(isHome);
    await page.getByRole('link', { name: 'Accounts' }).first().click();
    await expectHeading(page, 'Accounts');
    const row = page.locator('tr', { hasText: 'Initech' });
    await check('(n) the accounts list says Initech signs in with its SSO', async () => {
      assert((await row.innerText()).includes(`SSO: ${configName} (enabled)`), await row.innerText());
    });
    await shot(s, 'accounts');
    await row.getByRole('link', { name: 'Break glass for Initech' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Reason (ticket number, who asked)').waitFor();
    await shot(s, 'break-glass-dialog');
    await dialog.getByLabel('Reason (ticket number, who asked)').fill('Ticket 4711: changed my mind');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await check('(n) Cancel, with a reason typed, closes the dialog and turns nothing off', async () => {
      await dialog.waitFor({ state: 'hidden' });
      await page.reload();
      assert((await row.innerText()).includes(`SSO: ${configName} (enabled)`), await row.innerText());
    });
    await row.getByRole('link', { name: 'Break glass for Initech' }).click();
    await dialog.getByLabel('Reason (ticket number, who asked)').waitFor();
    await dialog.getByLabel('Reason (ticket number, who asked)').fill('Ticket 4711\nIan says the IdP is down');
    await dialog.getByRole('button', { name: 'Turn off SSO' }).click();
    await check('(n) a reason on two lines is refused in the dialog, keeping the text', async () => {
      await dialog.locator('#reason-error').waitFor();
      assert((await dialog.getByLabel('Reason (ticket number, who asked)').inputValue()).includes('Ian says'), 'the typed reason is gone');
    });
    await shot(s, 'break-glass-refused');
    await dialog.getByLabel('Reason (ticket number, who asked)').fill('Ticket 4711: Initech cannot reach its IdP, Ian asked');
    await dialog.getByRole('button', { name: 'Turn off SSO' }).click();
    await dialog.getByText('Audit reference').waitFor();
    await check('(n) the result names what was turned off and the audit reference', async () => {
      const t = await dialog.innerText();
      assert(t.includes(`Disabled SSO configuration ${configName}`) && /evt_[0-9a-z]+/.test(t), t);
    });
    await shot(s, 'break-glass-done');
    await dialog.getByRole('link', { name: 'Back to accounts' }).click();
    await check('(n) the accounts list now says Initech signs in with passwords', async () => {
      await page.locator('tr', { hasText: 'Initech' }).getByText('Password').waitFor();
    });
    await page.getByRole('button', { name: 'Sign out' }).click();

    await signInWithPassword(s, 'bob@initech.example');
    await page.waitForURL(isHome);
    await check('(n) bob signs in with his password again', async () => {
      assert((await mainText(page)).includes('bob@initech.example'), 'home does not name bob');
    });
    await page.getByRole('button', { name: 'Sign out' }).click();

    await ianWithRecoveryCode(s);
    await page.getByRole('link', { name: 'Authentication (SSO)' }).click();
    await expectHeading(page, 'Authentication');
    await check('(n) Initech\'s Authentication page says provider support turned SSO off, and why', async () => {
      const t = await mainText(page);
      assert(t.includes('Provider support turned off SSO') && t.includes('Ticket 4711'), t.slice(0, 500));
    });
    await shot(s, 'authentication-after-break-glass');
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByLabel('Category').selectOption({ label: 'Break-glass' });
    await page.getByRole('button', { name: 'Show' }).click();
    await check('(n) ian\'s audit log shows the break-glass with its reason', async () => {
      const t = await page.locator('table.records').innerText();
      assert(t.includes('support@provider.example') && t.includes('Ticket 4711'), t);
    });
    await shot(s, 'audit-break-glass');
  });
}
