// The failure stories of the browser suite: bob signs in to Acme through
// the demo's sample SAML IdP and, each time, something goes wrong in a way
// a person meets: the IdP turns him away with its own words, its answer
// does not verify, or he comes back to a sign-in that is already done.
// Each time Gatehouse's page says in plain words what to do, keeps the
// reference, and never shows the technical reason.
import { story, shot, check, assert, expectHeading, clickAndWait, emailStep, isHome, mainText } from './lib.mjs';

// acsAnswer rewrites the SAMLResponse the sample IdP's page posts to
// Gatehouse's ACS with edit(xml), as a different IdP answer would be.
async function acsAnswer(page, edit) {
  await page.route('**/sso/saml/*/acs', async (route) => {
    const form = new URLSearchParams(route.request().postData() || '');
    const xml = Buffer.from(form.get('SAMLResponse') || '', 'base64').toString('utf8');
    form.set('SAMLResponse', Buffer.from(edit(xml), 'utf8').toString('base64'));
    await route.continue({ postData: form.toString() });
  });
}

// refusal is the answer an IdP sends when it will not sign the person in
// to this app: no assertion, a failure status and a message, answering the
// same request (so the sign-in it belongs to is open).
function refusal(xml, message) {
  const attr = (name) => (new RegExp(`\\b${name}="([^"]*)"`).exec(xml) || [])[1] || '';
  const issuer = (/<(?:\w+:)?Issuer[^>]*>([^<]*)</.exec(xml) || [])[1] || '';
  return '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"'
    + ` ID="_refusal${Date.now()}" Version="2.0" IssueInstant="${new Date().toISOString()}"`
    + ` Destination="${attr('Destination')}" InResponseTo="${attr('InResponseTo')}">`
    + `<saml:Issuer>${issuer}</saml:Issuer><samlp:Status>`
    + '<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder">'
    + '<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:RequestDenied"/></samlp:StatusCode>'
    + `<samlp:StatusMessage>${message}</samlp:StatusMessage></samlp:Status></samlp:Response>`;
}

// bobAtTheIdP takes bob from Gatehouse's email step to the sample IdP and
// picks him there; the answer goes back to Gatehouse.
async function bobAtTheIdP(s, idp, base) {
  const { page } = s;
  await emailStep(s, 'bob@acme.example');
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL((u) => u.origin === idp);
  await clickAndWait(page, page.getByRole('button', { name: /bob@acme\.example/ }), (u) => u.origin === base);
}

export async function failureStories({ base, idp }) {
  await story('idp-refused', 'Acme\'s IdP turns bob away: Gatehouse shows its words, says to ask IT, and Start again keeps his email', async (s) => {
    const { page } = s;
    const said = 'AADSTS50105: bob@acme.example is not assigned to a role for the application Gatehouse.';
    await acsAnswer(page, (xml) => refusal(xml, said));
    await bobAtTheIdP(s, idp, base);
    await expectHeading(page, 'did not let you in');
    await check('(idp-refused) the page quotes the IdP, says to ask IT for access, and keeps the reference', async () => {
      const t = await mainText(page);
      assert(t.includes(said) && t.includes('Ask your IT team for access to this app.') && /Reference: evt_[0-9a-z]+/.test(t), `main says: ${t}`);
      assert(!/urn:oasis|RequestDenied|Responder|status/i.test(t), `main shows the technical status: ${t}`);
    });
    await shot(s, 'idp-refused', { status: 403 });
    await page.unroute('**/sso/saml/*/acs');
    await page.getByRole('link', { name: 'Start again' }).click();
    await expectHeading(page, 'Sign in');
    await check('(idp-refused) Start again comes back to the email step with bob\'s email kept', async () => {
      const v = await page.getByLabel('Email address').inputValue();
      assert(v === 'bob@acme.example', `the email box holds "${v}"`);
    });
    await shot(s, 'start-again');
  });

  await story('not-working', 'an answer that does not verify: "your company\'s sign-in is not working", no technical details', async (s) => {
    const { page } = s;
    // Someone (or a misconfigured IdP) changed the signed answer.
    await acsAnswer(page, (xml) => xml.replaceAll('bob@acme.example', 'boss@acme.example'));
    await bobAtTheIdP(s, idp, base);
    await expectHeading(page, 'sign-in is not working');
    await check('(not-working) the page says what to do and keeps the reference, without signatures or certificates', async () => {
      const t = await mainText(page);
      assert(t.includes('recorded for your administrators') && t.includes('Administrators of the account can still sign in with their password.')
        && /Reference: evt_[0-9a-z]+/.test(t), `main says: ${t}`);
      assert(!/signature|certificate|fingerprint|SHA-256|digest/i.test(t), `main shows technical details: ${t}`);
    });
    await shot(s, 'not-working', { status: 403 });
  });

  await story('signed-in', 'bob signs in, then opens the finished sign-in again: already signed in, Continue', async (s) => {
    const { page } = s;
    let finish = '';
    page.on('request', (r) => { if (new URL(r.url()).pathname.startsWith('/sso/finish/')) finish = r.url(); });
    await bobAtTheIdP(s, idp, base);
    await page.waitForURL(isHome);
    assert(finish !== '', 'no finish step seen');
    // As from the browser's history: the sign-in's last step again.
    await page.goto(finish);
    await expectHeading(page, 'You are already signed in');
    await check('(signed-in) the page names bob and offers to continue', async () => {
      const t = await mainText(page);
      assert(t.includes('You are signed in as bob@acme.example') && t.includes('Continue'), `main says: ${t}`);
    });
    await shot(s, 'already-signed-in');
    await clickAndWait(page, page.getByRole('link', { name: 'Continue' }), isHome);
    await check('(signed-in) Continue goes on to home, still bob', async () => {
      const t = await mainText(page);
      assert(t.includes('bob@acme.example'), `home says: ${t}`);
    });
  });
}
