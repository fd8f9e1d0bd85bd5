// Gatehouse's SCIM endpoint checked by parts from outside the project:
// every response body is validated by SCIMMY 1.3.5 against the User (with
// the Enterprise User extension) and Group schemas, and every PATCH is
// applied also by scim-patch 0.8.3 to the resource as it was read just
// before, the two results compared. The requests are shaped exactly as
// Entra ID and Okta send them (their public documentation:
// learn.microsoft.com/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups
// and developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20).
//
// node checker.mjs, with GATEHOUSE_SCIM_BASE (the account's SCIM base URL)
// and GATEHOUSE_SCIM_TOKEN; prints one line per check, exits 1 on any
// failure.
import SCIMMY from "scimmy";
import { scimPatch } from "scim-patch";
import assert from "node:assert/strict";

const base = process.env.GATEHOUSE_SCIM_BASE;
const token = process.env.GATEHOUSE_SCIM_TOKEN;
if (!base || !token) {
  console.error("set GATEHOUSE_SCIM_BASE and GATEHOUSE_SCIM_TOKEN");
  process.exit(2);
}
SCIMMY.Schemas.User.extend(SCIMMY.Schemas.EnterpriseUser);

let failures = 0;
let checks = 0;
async function check(name, fn) {
  checks++;
  try {
    await fn();
    console.log("ok   " + name);
  } catch (e) {
    failures++;
    console.log("FAIL " + name + ": " + (e.stack || e));
  }
}

async function scim(method, path, body, want) {
  const res = await fetch(base + path, {
    method,
    headers: { Authorization: "Bearer " + token, Accept: "application/scim+json",
      ...(body ? { "Content-Type": "application/scim+json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (want !== undefined && res.status !== want) {
    throw new Error(`${method} ${path}: ${res.status}, want ${want}: ${text}`);
  }
  if (text && !(res.headers.get("content-type") || "").startsWith("application/scim+json")) {
    throw new Error(`${method} ${path}: Content-Type ${res.headers.get("content-type")}`);
  }
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

// validate checks a resource with SCIMMY, as it leaves a service provider.
function validate(resource) {
  const kind = resource?.meta?.resourceType;
  assert.ok(kind === "User" || kind === "Group", "meta.resourceType is " + kind);
  const Schema = kind === "User" ? SCIMMY.Schemas.User : SCIMMY.Schemas.Group;
  assert.deepEqual(resource.schemas.filter((s) => s.startsWith("urn:ietf:params:scim:schemas:core")), [Schema.definition.id]);
  new Schema(resource, "out"); // throws a SCIMError when the body breaks the schema
  if (resource["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]) {
    assert.ok(resource.schemas.includes("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"), "extension data without its schema URN");
  }
  return resource;
}

function validateList(list) {
  assert.deepEqual(list.schemas, ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]);
  assert.equal(typeof list.totalResults, "number");
  for (const r of list.Resources) validate(r);
  return list;
}

function validateError(body, status, scimType) {
  assert.deepEqual(body.schemas, ["urn:ietf:params:scim:api:messages:2.0:Error"]);
  assert.equal(body.status, String(status));
  if (scimType) assert.equal(body.scimType, scimType);
}

// comparable is what both appliers own of a resource: not the server's
// meta, nor the groups a user is in (changed through the groups), nor
// members' display and $ref, which the server fills in.
function comparable(r) {
  const c = structuredClone(r);
  delete c.meta;
  // scim-patch leaves schemas as they were when a patch adds the first
  // Enterprise User attribute; a service provider lists the extension
  // (validate() checks that it does).
  delete c.schemas;
  delete c.groups;
  if (c.members) c.members = c.members.map((m) => m.value).sort();
  if (Array.isArray(c.members) && c.members.length === 0) delete c.members;
  return c;
}

// entraStrings: Entra ID sends booleans as the strings "True" and "False"
// (its documented known issue); scim-patch stores what it is given, a SCIM
// service provider stores booleans. The one normalisation the comparison
// makes.
function entraStrings(r) {
  const fix = (o) => {
    for (const [k, v] of Object.entries(o)) {
      if ((k === "active" || k === "primary") && typeof v === "string") o[k] = v.toLowerCase() === "true";
      else if (v && typeof v === "object") fix(v);
    }
  };
  fix(r);
  return r;
}

// differential PATCHes resource kind/id with body, and compares the answer
// with scim-patch's result on the resource as read before.
async function differential(kind, id, body) {
  const before = validate((await scim("GET", `/${kind}/${id}`, null, 200)).body);
  const expected = entraStrings(scimPatch(asClientKnows(before), asClientSends(body.Operations)));
  const after = validate((await scim("PATCH", `/${kind}/${id}`, body, 200)).body);
  assert.deepEqual(comparable(after), comparable(expected));
  const read = validate((await scim("GET", `/${kind}/${id}`, null, 200)).body);
  assert.deepEqual(comparable(read), comparable(after));
  return after;
}

// asClientKnows is the resource as the IdP knows it: members by their
// value. scim-patch removes members by deep equality, and Entra ID names a
// member by its value (with "$ref": null) in a remove, never with the
// display and $ref the server fills in.
function asClientKnows(r) {
  const c = structuredClone(r);
  if (c.members) c.members = c.members.map((m) => ({ value: m.value }));
  return c;
}

// asClientSends is the operations with Entra's null members dropped
// ("$ref": null means no $ref).
function asClientSends(ops) {
  return structuredClone(ops).map((op) => {
    if (Array.isArray(op.value)) {
      op.value = op.value.map((v) => (v && typeof v === "object" ? Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null)) : v));
    }
    return op;
  });
}

const patchOp = (...ops) => ({ schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: ops });

// Entra ID's requests.
const entraUser = {
  schemas: ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
  externalId: "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
  userName: "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
  active: true,
  emails: [{ primary: true, type: "work", value: "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com" }],
  meta: { resourceType: "User" },
  name: { formatted: "givenName familyName", familyName: "familyName", givenName: "givenName" },
  roles: [],
};
const entraGroup = {
  schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group", "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
  externalId: "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
  displayName: "displayName",
  meta: { resourceType: "Group" },
};
// Okta's requests.
const oktaUser = {
  schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
  userName: "test.user@okta.local",
  name: { givenName: "Test", familyName: "User" },
  emails: [{ primary: true, value: "test.user@okta.local", type: "work" }],
  displayName: "Test User",
  locale: "en-US",
  externalId: "00ujl29u0le5T6Aj10h7",
  groups: [],
  password: "1mz050nq",
  active: true,
};
const oktaGroup = { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: "Test SCIMv2", members: [] };

let entraID, oktaID, entraGroupID, oktaGroupID;

await check("discovery: ServiceProviderConfig, ResourceTypes, Schemas", async () => {
  const sp = (await scim("GET", "/ServiceProviderConfig", null, 200)).body;
  new SCIMMY.Schemas.ServiceProviderConfig(sp, "out");
  assert.equal(sp.patch.supported, true);
  assert.equal(sp.filter.supported, true);
  const rt = (await scim("GET", "/ResourceTypes", null, 200)).body;
  for (const r of rt.Resources) new SCIMMY.Schemas.ResourceType(r, "out");
  assert.deepEqual(rt.Resources.map((r) => r.id).sort(), ["Group", "User"]);
  const schemas = (await scim("GET", "/Schemas", null, 200)).body;
  assert.deepEqual(schemas.Resources.map((s) => s.id).sort(), [
    "urn:ietf:params:scim:schemas:core:2.0:Group", "urn:ietf:params:scim:schemas:core:2.0:User",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]);
});

await check("Entra ID: create user, then its duplicate check", async () => {
  const list = validateList((await scim("GET", "/Users?filter=" + encodeURIComponent(`userName eq "${entraUser.userName}"`), null, 200)).body);
  assert.equal(list.totalResults, 0);
  const u = validate((await scim("POST", "/Users", entraUser, 201)).body);
  entraID = u.id;
  assert.equal(u.userName, entraUser.userName);
  assert.equal(u.externalId, entraUser.externalId);
  assert.equal(u.active, true);
  assert.deepEqual(u.name, entraUser.name);
  const found = validateList((await scim("GET", "/Users?filter=" + encodeURIComponent(`userName eq "${entraUser.userName.toUpperCase()}"`), null, 200)).body);
  assert.equal(found.totalResults, 1);
  const dup = await scim("POST", "/Users", entraUser, 409);
  validateError(dup.body, 409, "uniqueness");
});

await check("Okta: look up, create user, GET by filter with startIndex and count", async () => {
  const u = validate((await scim("POST", "/Users", oktaUser, 201)).body);
  oktaID = u.id;
  assert.equal(u.password, undefined, "the password is never returned");
  const list = validateList((await scim("GET", "/Users?filter=" + encodeURIComponent(`userName eq "test.user@okta.local"`) + "&startIndex=1&count=100", null, 200)).body);
  assert.equal(list.totalResults, 1);
  assert.equal(list.Resources[0].id, oktaID);
  validate((await scim("GET", `/Users/${oktaID}`, null, 200)).body);
});

await check("filters: eq, co, sw, and, or on userName, emails, externalId, displayName", async () => {
  for (const [filter, want] of [
    [`emails eq "test.user@okta.local"`, [oktaID]],
    [`emails[type eq "work" and value co "testuser.com"]`, [entraID]],
    [`externalId eq "00ujl29u0le5T6Aj10h7"`, [oktaID]],
    [`displayName co "test"`, [oktaID]],
    [`userName sw "test"`, [entraID, oktaID]],
    [`userName sw "test" and name.familyName eq "User"`, [oktaID]],
    [`displayName eq "Test User" or externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"`, [entraID, oktaID]],
  ]) {
    const list = validateList((await scim("GET", "/Users?filter=" + encodeURIComponent(filter), null, 200)).body);
    assert.deepEqual(list.Resources.map((r) => r.id).sort(), want.sort(), filter);
  }
  const page = validateList((await scim("GET", "/Users?startIndex=2&count=1", null, 200)).body);
  assert.equal(page.itemsPerPage, 1);
  assert.equal(page.startIndex, 2);
  const bad = await scim("GET", "/Users?filter=" + encodeURIComponent(`userName eq`), null, 400);
  validateError(bad.body, 400, "invalidFilter");
});

await check("Entra ID: PATCH multi-valued and single-valued properties", async () => {
  await differential("Users", entraID, patchOp(
    { op: "Replace", path: 'emails[type eq "work"].value', value: "updatedEmail@microsoft.com" },
    { op: "Replace", path: "name.familyName", value: "updatedFamilyName" }));
  await differential("Users", entraID, patchOp({ op: "Replace", path: "userName", value: "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com" }));
  await differential("Users", entraID, patchOp(
    { op: "Add", path: "title", value: "Engineer" },
    { op: "Add", value: { "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Marketing", "name.givenName": "Given" } },
    { op: "Add", path: 'phoneNumbers[type eq "mobile"].value', value: "+1 555 0100" }));
  await differential("Users", entraID, patchOp({ op: "Remove", path: "title" }));
});

await check("Okta: PUT the user, PATCH names", async () => {
  const cur = (await scim("GET", `/Users/${oktaID}`, null, 200)).body;
  const put = { ...cur, name: { givenName: "Another", familyName: "User" }, displayName: "Another User" };
  const u = validate((await scim("PUT", `/Users/${oktaID}`, put, 200)).body);
  assert.equal(u.displayName, "Another User");
  assert.deepEqual(u.name, put.name);
  await differential("Users", oktaID, patchOp({ op: "replace", value: { name: { givenName: "Test" }, displayName: "Test User" } }));
});

await check("Entra ID and Okta: groups and their members", async () => {
  const g = validate((await scim("POST", "/Groups", entraGroup, 201)).body);
  entraGroupID = g.id;
  const o = validate((await scim("POST", "/Groups", oktaGroup, 201)).body);
  oktaGroupID = o.id;
  validateList((await scim("GET", "/Groups?excludedAttributes=members&filter=" + encodeURIComponent(`displayName eq "displayName"`), null, 200)).body);
  await differential("Groups", entraGroupID, patchOp({ op: "Add", path: "members", value: [{ $ref: null, value: entraID }] }));
  await differential("Groups", entraGroupID, patchOp({ op: "Add", path: "members", value: [{ $ref: null, value: oktaID }] }));
  await differential("Groups", entraGroupID, patchOp({ op: "Remove", path: "members", value: [{ $ref: null, value: entraID }] }));
  await differential("Groups", entraGroupID, patchOp({ op: "Replace", path: "displayName", value: "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName" }));
  await differential("Groups", oktaGroupID, patchOp({ op: "replace", value: { id: oktaGroupID, displayName: "Test SCIMv2 renamed" } }));
  await differential("Groups", oktaGroupID, patchOp({ op: "add", path: "members", value: [{ value: oktaID, display: "test.user@okta.local" }, { value: entraID, display: "x" }] }));
  await differential("Groups", oktaGroupID, patchOp({ op: "remove", path: `members[value eq "${oktaID}"]` }));
  const u = validate((await scim("GET", `/Users/${entraID}`, null, 200)).body);
  assert.deepEqual(u.groups.map((x) => x.value), [oktaGroupID]);
});

await check("Entra ID: disable with the string form; Okta: deactivate", async () => {
  const off = await differential("Users", entraID, patchOp({ op: "Replace", path: "active", value: "False" }));
  assert.equal(off.active, false);
  const on = await differential("Users", entraID, patchOp({ op: "Replace", path: "active", value: true }));
  assert.equal(on.active, true);
  const okta = await differential("Users", oktaID, patchOp({ op: "replace", value: { active: false } }));
  assert.equal(okta.active, false);
});

await check("bad input: SCIM errors with scimType", async () => {
  validateError((await scim("PATCH", `/Users/${entraID}`, patchOp({ op: "add", path: "nosuch", value: 1 }), 400)).body, 400, "invalidPath");
  validateError((await scim("PATCH", `/Users/${entraID}`, patchOp({ op: "remove" }), 400)).body, 400, "noTarget");
  validateError((await scim("POST", "/Users", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"] }, 400)).body, 400, "invalidValue");
  validateError((await scim("GET", "/Users/nosuch", null, 404)).body, 404);
});

await check("delete: users and groups are gone", async () => {
  await scim("DELETE", `/Groups/${entraGroupID}`, null, 204);
  await scim("DELETE", `/Users/${entraID}`, null, 204);
  validateError((await scim("GET", `/Users/${entraID}`, null, 404)).body, 404);
  validateError((await scim("GET", `/Groups/${entraGroupID}`, null, 404)).body, 404);
  const g = validate((await scim("GET", `/Groups/${oktaGroupID}`, null, 200)).body);
  assert.equal(g.members, undefined);
});

console.log(`${checks - failures}/${checks} checks passed`);
process.exit(failures ? 1 : 0);
