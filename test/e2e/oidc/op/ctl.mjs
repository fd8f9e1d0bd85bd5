// The HTTP half of ../op.sh (a fresh Debian machine has node here, but not
// necessarily curl). OP_ADMIN_TOKEN, when set, is sent to /_admin/.
//
//   node ctl.mjs call METHOD URL [JSON_BODY]   print the JSON answer; exit 1 unless 2xx
//   node ctl.mjs ready BASE_URL                exit 0 once /_admin/state and every
//                                              issuer's discovery answer 200, else 1

const [cmd, ...rest] = process.argv.slice(2);
const token = process.env.OP_ADMIN_TOKEN;

async function call(method, url, body) {
  const headers = { Accept: 'application/json' };
  if (token && new URL(url).pathname.startsWith('/_admin/')) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, text: await res.text() };
}

try {
  switch (cmd) {
    case 'call': {
      const [method, url, body] = rest;
      const r = await call(method, url, body);
      process.stdout.write(r.text.endsWith('\n') ? r.text : `${r.text}\n`);
      if (r.status < 200 || r.status > 299) {
        let msg = r.text;
        try {
          const j = JSON.parse(r.text);
          msg = `${j.error}: ${j.error_description}`;
        } catch {
          // not JSON: print it as it is
        }
        console.error(`op.sh: ${method} ${url}: HTTP ${r.status}: ${msg.trim()}`);
        process.exit(1);
      }
      break;
    }
    case 'ready': {
      const base = rest[0];
      const state = await call('GET', `${base}/_admin/state`);
      if (state.status !== 200) process.exit(1);
      for (const iss of JSON.parse(state.text).issuers) {
        if (iss.down) continue;
        const r = await call('GET', `${base}${iss.path}/.well-known/openid-configuration`);
        if (r.status !== 200) process.exit(1);
      }
      break;
    }
    default:
      console.error('usage: ctl.mjs call METHOD URL [JSON_BODY] | ctl.mjs ready BASE_URL');
      process.exit(2);
  }
} catch (err) {
  if (cmd === 'ready') process.exit(1);
  console.error(`op.sh: ${err.cause?.message ?? err.message}`);
  process.exit(1);
}
