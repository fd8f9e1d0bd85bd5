// Gatehouse's webhook end-to-end receiver: an endpoint as an integrator
// would write one, verifying every delivery with the Standard Webhooks
// library `standardwebhooks` (pinned in package.json). It listens on a
// loopback port (printed as "listening PORT"); webhooks_test.go gives it
// the webhook's secret (POST /_secret) and reads what it received
// (GET /_results). For each delivery it records whether the library
// accepted it, and whether it also accepted the same delivery with its body
// changed, or signed correctly but ten minutes old (it must not).
import http from "node:http";
import { Webhook } from "standardwebhooks";

let hook = null;
const results = [];

function read(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function accepts(body, headers) {
  try {
    hook.verify(body, headers);
    return true;
  } catch {
    return false;
  }
}

const server = http.createServer(async (req, res) => {
  const body = await read(req);
  if (req.method === "POST" && req.url === "/_secret") {
    hook = new Webhook(body.trim());
    res.statusCode = 204;
    res.end();
    return;
  }
  if (req.method === "GET" && req.url === "/_results") {
    res.setHeader("Content-Type", "application/json");
    res.end(JSON.stringify(results));
    return;
  }
  const headers = {
    "webhook-id": req.headers["webhook-id"] ?? "",
    "webhook-timestamp": req.headers["webhook-timestamp"] ?? "",
    "webhook-signature": req.headers["webhook-signature"] ?? "",
  };
  const r = { id: headers["webhook-id"], path: req.url };
  if (hook === null) {
    r.error = "no secret yet";
  } else {
    try {
      r.payload = hook.verify(body, headers);
      r.verified = true;
    } catch (e) {
      r.verified = false;
      r.error = String(e);
    }
    r.tamperedAccepted = accepts(body.replace(/}$/, ',"injected":true}'), headers);
    const old = new Date(Date.now() - 10 * 60 * 1000);
    r.oldAccepted = accepts(body, {
      "webhook-id": headers["webhook-id"],
      "webhook-timestamp": String(Math.floor(old.getTime() / 1000)),
      "webhook-signature": hook.sign(headers["webhook-id"], old, body),
    });
  }
  results.push(r);
  res.statusCode = r.verified ? 204 : 401;
  res.end();
});

server.listen(0, "127.0.0.1", () => {
  console.log(`listening ${server.address().port}`);
});
