// The MaxIOFS console: a small single-page application over /api/v1. Pages are functions that return
// elements; the hash names the page (#/users). What a user sees follows their role, as the API decides.
import { api, get, post, patch, put, del, query, APIError, s3, s3Path, listObjects, uploadObject } from "/ui/api.js";
import { h, bytes, parseSize, when, badge, errorBox, usage, table, lineChart } from "/ui/ui.js";

const app = document.getElementById("app");
let me = null;

// ---- theme ----
const savedTheme = localStorage.getItem("maxiofs-theme");
const prefersDark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
document.documentElement.dataset.theme = savedTheme || (prefersDark ? "dark" : "light");
function toggleTheme() {
  const next = document.documentElement.dataset.theme === "dark" ? "light" : "dark";
  document.documentElement.dataset.theme = next;
  localStorage.setItem("maxiofs-theme", next);
}

window.addEventListener("maxiofs:logged-out", () => { me = null; if (location.hash !== "#/login") location.hash = "#/login"; });

// ---- pages ----
const pages = {
  "/dashboard": { title: "Dashboard", render: dashboard },
  "/buckets": { title: "Buckets", render: buckets },
  "/objects": { title: "Objects", render: objects, hidden: true },
  "/tenants": { title: "Tenants", render: tenants, admin: true },
  "/users": { title: "Users", render: users, manager: true },
  "/keys": { title: "Access keys", render: keys },
  "/audit": { title: "Audit log", render: audit, manager: true },
  "/settings": { title: "Settings", render: settings, admin: true },
  "/profile": { title: "Profile", render: profile },
};

function isGlobalAdmin() { return me && me.role === "admin" && !me.tenant; }
function isManager() { return me && (isGlobalAdmin() || me.role === "tenant-admin"); }

async function route() {
  const [path, qs] = (location.hash.replace(/^#/, "") || "/dashboard").split("?");
  const params = new URLSearchParams(qs || "");
  if (path === "/login") { renderLogin(); return; }
  if (!me) {
    try { me = await get("/me"); } catch (e) { location.hash = "#/login"; return; }
  }
  if (me.must_change_password && path !== "/profile") { location.hash = "#/profile"; return; }
  const page = pages[path] || pages["/dashboard"];
  const content = h("div", {}, h("h1", {}, page.title));
  app.replaceChildren(layout(path, content));
  try {
    content.append(await page.render(params));
  } catch (e) {
    content.append(errorBox(e.message));
  }
}

function layout(path, content) {
  const links = Object.entries(pages)
    .filter(([, p]) => !p.hidden && (!p.admin || isGlobalAdmin()) && (!p.manager || isManager()))
    .map(([k, p]) => h("a", { href: "#" + k, class: k === path ? "active" : "" }, p.title));
  return h("div", { class: "layout" },
    h("nav", { class: "sidebar" }, h("div", { class: "brand" }, "MaxIOFS"), h("div", { class: "nav" }, links)),
    h("main", { class: "main" },
      h("div", { class: "topbar" },
        h("span", {}, me.name, me.tenant ? ` · ${me.tenant}` : "", " · ", me.role),
        h("button", { onclick: toggleTheme, title: "Light or dark theme" }, "Theme"),
        h("button", { id: "logout", onclick: async () => { await post("/auth/logout").catch(() => {}); me = null; location.hash = "#/login"; } }, "Log out")),
      content));
}

function renderLogin() {
  const error = h("div");
  const user = h("input", { id: "username", autocomplete: "username", required: true });
  const pass = h("input", { id: "password", type: "password", autocomplete: "current-password", required: true });
  const form = h("form", { class: "panel login" },
    h("div", { class: "brand" }, "MaxIOFS"),
    h("label", { for: "username" }, "User name"), user,
    h("label", { for: "password" }, "Password"), pass,
    error,
    h("button", { class: "primary", type: "submit", id: "login" }, "Log in"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.replaceChildren();
    try {
      const r = await post("/auth/login", { username: user.value, password: pass.value });
      if (r.two_factor_required) { renderSecondFactor(r.challenge); return; }
      me = r.user;
      location.hash = me.must_change_password ? "#/profile" : "#/dashboard";
      route();
    } catch (e) {
      error.replaceChildren(errorBox(e.code === "AccessDenied" ? "The user name or password is wrong, or the account is locked." : e.message));
    }
  });
  app.replaceChildren(form);
  user.focus();
}

function renderSecondFactor(challenge) {
  const error = h("div");
  const code = h("input", { id: "code", inputmode: "numeric", autocomplete: "one-time-code", required: true });
  const form = h("form", { class: "panel login" },
    h("div", { class: "brand" }, "MaxIOFS"),
    h("p", { class: "muted" }, "Enter the 6-digit code from your authenticator app, or one of your backup codes."),
    h("label", { for: "code" }, "Code"), code, error,
    h("button", { class: "primary", type: "submit", id: "verify" }, "Verify"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const r = await post("/auth/login/2fa", { challenge, code: code.value.trim() });
      me = r.user;
      location.hash = "#/dashboard";
      route();
    } catch (e) {
      error.replaceChildren(errorBox(e.message));
    }
  });
  app.replaceChildren(form);
  code.focus();
}

function card(label, value) { return h("div", { class: "card" }, h("div", { class: "label" }, label), h("div", { class: "value" }, value)); }

async function dashboard() {
  const out = h("div");
  if (!isGlobalAdmin()) {
    out.append(h("div", { class: "panel" }, `Signed in as ${me.name}`, me.tenant ? ` in tenant ${me.tenant}` : "", `, role ${me.role}.`));
    if (me.tenant && isManager()) {
      const t = await get("/tenants/" + encodeURIComponent(me.tenant));
      out.append(h("div", { class: "cards" }, card("Buckets", t.bucket_count), card("Objects", t.object_count), card("Stored", bytes(t.used_bytes))),
        h("div", { class: "panel" }, h("h2", {}, "Storage quota"), usage(t.used_bytes, t.max_storage_bytes)));
    }
    return out;
  }
  const info = await get("/info");
  const c = info.counts;
  out.append(h("div", { class: "cards" },
    card("Buckets", c.buckets), card("Objects", c.objects), card("Stored", bytes(info.storage.used_bytes)),
    card("Tenants", c.tenants), card("Users", c.users), card("Uploads in progress", c.uploads)));
  if (info.storage.total_bytes) {
    const used = info.storage.total_bytes - info.storage.available_bytes;
    out.append(h("div", { class: "panel" }, h("h2", {}, "Disk"), usage(used, info.storage.total_bytes)));
  }
  out.append(h("div", { class: "muted" }, `Version ${info.version}, region ${info.region}, up since ${when(info.started_at)}.`));
  try {
    const hist = await get("/metrics/history" + query({ step: 60 }));
    const pts = hist.points.map((p) => [Date.parse(p.time), p.requests_per_second]);
    const lat = hist.points.filter((p) => p.latency_p99 !== null).map((p) => [Date.parse(p.time), p.latency_p99 * 1000]);
    out.append(lineChart(pts, { title: "Requests per second, last hour" }),
      lineChart(lat, { title: "Latency p99 (ms), last hour", format: (v) => v.toFixed(1) + " ms" }));
  } catch (e) { out.append(errorBox(e.message)); }
  return out;
}

async function buckets() {
  const out = h("div");
  const rows = [];
  const box = h("div");
  const filter = h("input", { id: "bucket-filter", placeholder: "name starts with…" });
  const more = h("button", { id: "buckets-more" }, "Load more");
  let cursor = null;
  async function removeBucket(n) {
    if (!confirm(`Delete the bucket ${n}? It must be empty.`)) return;
    try { await s3("DELETE", s3Path(n)); await load(true); } catch (e) { alert(e.message); }
  }
  async function load(reset) {
    if (reset) { rows.length = 0; cursor = null; }
    const page = await get("/buckets" + query({ prefix: filter.value.trim(), cursor, limit: 200 }));
    rows.push(...page.buckets);
    cursor = page.next_cursor;
    more.disabled = !cursor;
    box.replaceChildren(table([
      { key: "name", label: "Name", render: (b) => h("a", { class: "mono", href: "#/objects?" + new URLSearchParams({ bucket: b.name }) }, b.name) },
      { key: "tenant", label: "Tenant", render: (b) => b.tenant || h("span", { class: "muted" }, "global") },
      { key: "used_bytes", label: "Size", render: (b) => usage(b.used_bytes, b.max_bytes), sort: (b) => b.used_bytes },
      { key: "object_count", label: "Objects", render: (b) => usage(b.object_count, b.max_objects, String), sort: (b) => b.object_count },
      { key: "versioning", label: "Versioning", render: (b) => b.versioning ? badge(b.versioning, b.versioning === "Enabled" ? "ok" : "") : badge("off") },
      { key: "object_lock", label: "Object Lock", render: (b) => b.object_lock ? badge("on", "ok") : badge("off") },
      { key: "created_at", label: "Created", render: (b) => when(b.created_at) },
      { key: "actions", label: "", render: (b) => h("button", { class: "danger", onclick: () => removeBucket(b.name) }, "Delete") },
    ], rows, { empty: "No buckets yet. Create one above or with any S3 client (aws s3 mb s3://name).", sortKey: "name" }));
  }
  const form = h("form", { class: "panel form-row" }, h("div", {}, filter), h("div", {}, h("button", { class: "primary", type: "submit" }, "Filter")));
  form.addEventListener("submit", (ev) => { ev.preventDefault(); load(true).catch((e) => box.replaceChildren(errorBox(e.message))); });
  more.addEventListener("click", () => load(false).catch((e) => alert(e.message)));
  // A new bucket, through the S3 gateway (CreateBucket as the signed-in user; the name rules are S3's).
  const name = h("input", { id: "new-bucket", placeholder: "my-bucket", autocomplete: "off" });
  const hint = h("div", { class: "muted", id: "new-bucket-hint" });
  const versioning = h("input", { id: "new-bucket-versioning", type: "checkbox" });
  const lock = h("input", { id: "new-bucket-lock", type: "checkbox" });
  const createError = h("div");
  name.addEventListener("input", () => { hint.textContent = bucketNameProblem(name.value) || ""; });
  const create = h("form", { class: "panel" }, h("h2", {}, "New bucket"),
    h("div", { class: "form-row" },
      h("div", {}, h("label", { for: "new-bucket" }, "Name"), name),
      h("div", {}, h("label", {}, versioning, " Versioning")),
      h("div", {}, h("label", {}, lock, " Object Lock (turns versioning on)")),
      h("div", {}, h("button", { class: "primary", type: "submit", id: "create-bucket" }, "Create"))),
    hint, createError);
  create.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    createError.replaceChildren();
    const n = name.value.trim();
    const problem = bucketNameProblem(n);
    if (problem) { createError.append(errorBox(problem)); return; }
    try {
      await s3("PUT", s3Path(n), { headers: lock.checked ? { "x-amz-bucket-object-lock-enabled": "true" } : {} });
      if (versioning.checked && !lock.checked) {
        await s3("PUT", s3Path(n) + "?versioning", { body: '<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status></VersioningConfiguration>' });
      }
      name.value = ""; hint.textContent = "";
      await load(true);
    } catch (e) { createError.append(errorBox(e.message)); }
  });
  out.append(create, form, h("div", { class: "panel" }, box, h("div", { class: "pager" }, h("span", {}, "Sorted by name"), more)));
  await load(true);
  return out;
}

/** Why a name is not a valid bucket name (S3's rules), or null. */
function bucketNameProblem(n) {
  if (!n) return "A bucket needs a name.";
  if (n.length < 3 || n.length > 63) return "3 to 63 characters.";
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(n)) return "Lower-case letters, digits, dots and hyphens; starting and ending with a letter or digit.";
  if (/\.\./.test(n) || /\.-|-\./.test(n)) return "No two dots in a row, and no dot next to a hyphen.";
  if (/^\d+\.\d+\.\d+\.\d+$/.test(n)) return "Not an IP address.";
  if (/^xn--|^sthree-|^amzn-s3-demo-|-s3alias$|--ol-s3$|\.mrap$|--x-s3$/.test(n)) return "That prefix or suffix is reserved.";
  return null;
}

// The object browser: a bucket's keys as folders (by "/"), a page at a time, with uploads, downloads and
// deletes. Every call goes through /api/v1/s3, where the server acts for the signed-in user.
async function objects(params) {
  const bucket = params.get("bucket") || "";
  const prefix = params.get("prefix") || "";
  const link = (p) => "#/objects?" + new URLSearchParams(p ? { bucket, prefix: p } : { bucket });
  const crumbs = [h("a", { href: "#/buckets" }, "Buckets"), " / ", h("a", { href: link(""), class: "mono" }, bucket)];
  let acc = "";
  for (const part of prefix.split("/").filter(Boolean)) {
    acc += part + "/";
    crumbs.push(" / ", h("a", { href: link(acc), class: "mono" }, part));
  }
  const out = h("div", {}, h("div", { class: "panel crumbs", id: "crumbs" }, crumbs));
  const error = h("div");
  const box = h("div", { id: "objects" });
  const more = h("button", { id: "objects-more" }, "Load more");
  const rows = [];
  let token = null;
  function name(key) { return key.slice(prefix.length); }
  async function remove(key) {
    if (!confirm(`Delete ${key}?`)) return;
    try { await s3("DELETE", s3Path(bucket, key)); await load(true); } catch (e) { error.replaceChildren(errorBox(e.message)); }
  }
  async function load(reset) {
    if (reset) { rows.length = 0; token = null; }
    const page = await listObjects(bucket, prefix, token);
    rows.push(...page.folders.map((f) => ({ folder: true, key: f, size: null, modified: null })));
    rows.push(...page.objects.filter((o) => o.key !== prefix).map((o) => ({ folder: false, ...o })));
    token = page.next;
    more.disabled = !token;
    box.replaceChildren(table([
      { key: "key", label: "Name", sort: (r) => (r.folder ? "0" : "1") + r.key, render: (r) => r.folder
        ? h("a", { href: link(r.key), class: "mono folder" }, name(r.key))
        : h("a", { href: s3Path(bucket, r.key), download: name(r.key), class: "mono" }, name(r.key)) },
      { key: "size", label: "Size", render: (r) => r.folder ? h("span", { class: "muted" }, "folder") : bytes(r.size), sort: (r) => r.size ?? -1 },
      { key: "modified", label: "Modified", render: (r) => r.folder ? "" : when(r.modified) },
      { key: "actions", label: "", render: (r) => r.folder ? "" : h("button", { class: "danger", onclick: () => remove(r.key) }, "Delete") },
    ], rows, { empty: prefix ? "Nothing under this folder yet." : "This bucket is empty. Upload files below or with any S3 client.", sortKey: "key" }));
  }
  // Uploads: chosen or dropped files, each with its progress bar, one after the other.
  const files = h("input", { id: "upload-files", type: "file", multiple: true });
  const progress = h("div", { id: "uploads" });
  async function upload(list) {
    error.replaceChildren();
    for (const file of Array.from(list)) {
      const bar = h("div", { style: "width:0%" });
      const label = h("span", { class: "muted" }, " 0 %");
      progress.append(h("div", { class: "upload" }, h("span", { class: "mono" }, file.name), label, h("div", { class: "bar" }, bar)));
      try {
        await uploadObject(bucket, prefix + file.name, file, (f) => { bar.style.width = (f * 100).toFixed(0) + "%"; label.textContent = ` ${(f * 100).toFixed(0)} %`; });
        bar.style.width = "100%";
        label.textContent = " done";
      } catch (e) {
        label.textContent = " failed";
        error.append(errorBox(`${file.name}: ${e.message}`));
      }
    }
    await load(true);
  }
  files.addEventListener("change", () => upload(files.files));
  const drop = h("div", { class: "panel drop", id: "drop" }, h("h2", {}, "Upload"),
    h("p", { class: "muted" }, "Drop files here, or choose them: they go into ", h("span", { class: "mono" }, "/" + prefix), "."),
    files, progress);
  drop.addEventListener("dragover", (ev) => { ev.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (ev) => { ev.preventDefault(); drop.classList.remove("over"); upload(ev.dataTransfer.files); });
  const folder = h("input", { id: "folder-name", placeholder: "new folder name" });
  const folderForm = h("form", { class: "form-row" }, h("div", {}, folder), h("div", {}, h("button", { type: "submit" }, "Create folder")));
  folderForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const n = folder.value.trim().replace(/\/+$/, "");
    if (!n) return;
    try { await s3("PUT", s3Path(bucket, prefix + n + "/"), { body: "" }); location.hash = link(prefix + n + "/"); }
    catch (e) { error.replaceChildren(errorBox(e.message)); }
  });
  more.addEventListener("click", () => load(false).catch((e) => error.replaceChildren(errorBox(e.message))));
  out.append(error, h("div", { class: "panel" }, folderForm, box, h("div", { class: "pager" }, h("span", {}, "Folders first, then files, by name"), more)), drop);
  await load(true);
  return out;
}

async function tenants() {
  const list = await get("/tenants");
  const out = h("div");
  const error = h("div");
  const name = h("input", { id: "tenant-name", placeholder: "acme" });
  const storage = h("input", { id: "tenant-storage", placeholder: "100 GB (empty: no limit)" });
  const buckets = h("input", { id: "tenant-buckets", type: "number", min: 0, placeholder: "0" });
  const create = h("form", { class: "panel" }, h("h2", {}, "New tenant"),
    h("div", { class: "form-row" },
      h("div", {}, h("label", {}, "Name"), name),
      h("div", {}, h("label", {}, "Storage quota"), storage),
      h("div", {}, h("label", {}, "Bucket quota"), buckets),
      h("div", {}, h("button", { class: "primary", type: "submit", id: "create-tenant" }, "Create"))), error);
  create.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const size = storage.value.trim() ? parseSize(storage.value) : 0;
    if (size === null) { error.replaceChildren(errorBox("The storage quota is not a size such as 100 GB or 2 TiB.")); return; }
    try {
      await post("/tenants", { name: name.value.trim(), max_storage_bytes: size, max_buckets: Number(buckets.value || 0) });
      route();
    } catch (e) { error.replaceChildren(errorBox(e.message)); }
  });
  out.append(create, h("div", { class: "panel" }, table([
    { key: "name", label: "Name" },
    { key: "status", label: "Status", render: (t) => badge(t.status, t.status === "active" ? "ok" : "bad") },
    { key: "used_bytes", label: "Storage", render: (t) => usage(t.used_bytes, t.max_storage_bytes) },
    { key: "bucket_count", label: "Buckets", render: (t) => usage(t.bucket_count, t.max_buckets, String) },
    { key: "object_count", label: "Objects" },
    { key: "actions", label: "", render: (t) => h("span", {},
      h("button", { onclick: async () => { await patch("/tenants/" + encodeURIComponent(t.name), { status: t.status === "active" ? "suspended" : "active" }).catch((e) => alert(e.message)); route(); } }, t.status === "active" ? "Suspend" : "Activate"),
      h("button", { class: "danger", onclick: async () => {
        if (!confirm(`Delete tenant ${t.name}?`)) return;
        try { await del("/tenants/" + encodeURIComponent(t.name)); }
        catch (e) {
          if (e.code === "NotEmpty" && confirm(`${e.message}\n\nDelete it with its users, keys and groups?`)) {
            await del("/tenants/" + encodeURIComponent(t.name) + "?force=true").catch((e2) => alert(e2.message));
          } else if (e.code !== "NotEmpty") alert(e.message);
        }
        route();
      } }, "Delete")) },
  ], list, { empty: "No tenants yet: create one above.", sortKey: "name" })));
  return out;
}

async function users() {
  const list = await get("/users");
  const out = h("div");
  const error = h("div");
  const name = h("input", { id: "user-name" });
  const password = h("input", { id: "user-password", type: "password", autocomplete: "new-password" });
  const tenant = h("input", { id: "user-tenant", placeholder: isGlobalAdmin() ? "(none: global)" : me.tenant, value: isGlobalAdmin() ? "" : me.tenant });
  const role = h("select", { id: "user-role" }, ["user", "readonly", "tenant-admin", "admin"].map((r) => h("option", { value: r }, r)));
  const temporary = h("input", { type: "checkbox", id: "user-temporary", checked: true });
  const create = h("form", { class: "panel" }, h("h2", {}, "New user"),
    h("div", { class: "form-row" },
      h("div", {}, h("label", {}, "Name"), name), h("div", {}, h("label", {}, "Password"), password),
      h("div", {}, h("label", {}, "Tenant"), tenant), h("div", {}, h("label", {}, "Role"), role),
      h("div", {}, h("label", {}, h("span", {}, temporary, " change at first login"))),
      h("div", {}, h("button", { class: "primary", type: "submit", id: "create-user" }, "Create"))), error);
  create.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const body = { name: name.value.trim(), password: password.value, role: role.value, temporary: temporary.checked };
      if (tenant.value.trim()) body.tenant = tenant.value.trim();
      await post("/users", body);
      route();
    } catch (e) { error.replaceChildren(errorBox(e.message)); }
  });
  const act = (label, fn, cls) => h("button", { class: cls || "", onclick: async () => { try { await fn(); route(); } catch (e) { alert(e.message); } } }, label);
  out.append(create, h("div", { class: "panel" }, table([
    { key: "name", label: "Name" },
    { key: "tenant", label: "Tenant", render: (u) => u.tenant || h("span", { class: "muted" }, "global") },
    { key: "role", label: "Role" },
    { key: "status", label: "Status", render: (u) => h("span", {}, badge(u.status, u.status === "active" ? "ok" : "bad"), u.locked ? badge("locked", "bad") : "") },
    { key: "two_factor", label: "2FA", render: (u) => u.two_factor ? badge("on", "ok") : badge("off") },
    { key: "actions", label: "", render: (u) => h("span", {},
      act(u.status === "active" ? "Disable" : "Enable", () => patch("/users/" + encodeURIComponent(u.name), { status: u.status === "active" ? "disabled" : "active" })),
      u.locked ? act("Unlock", () => patch("/users/" + encodeURIComponent(u.name), { unlock: true })) : "",
      u.two_factor ? act("Reset 2FA", () => confirm(`Turn two-factor authentication off for ${u.name}?`) && del("/users/" + encodeURIComponent(u.name) + "/2fa")) : "",
      act("Delete", () => confirm(`Delete user ${u.name} and their access keys?`) && del("/users/" + encodeURIComponent(u.name)), "danger")) },
  ], list, { empty: "No users.", sortKey: "name" })));
  return out;
}

async function keys() {
  const list = await get("/access-keys");
  const out = h("div");
  const shown = h("div");
  const target = h("input", { id: "key-user", value: me.name });
  const create = h("form", { class: "panel" }, h("h2", {}, "New access key"),
    h("div", { class: "form-row" }, isManager() ? h("div", {}, h("label", {}, "For user"), target) : "",
      h("div", {}, h("button", { class: "primary", type: "submit", id: "create-key" }, "Create key"))), shown);
  create.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const k = await post("/access-keys", { user: target.value.trim() || me.name });
      const csv = `Access key ID,Secret access key\n${k.access_key_id},${k.secret_access_key}\n`;
      shown.replaceChildren(h("div", { class: "notice" },
        h("p", {}, "The secret is shown once: copy it now."),
        h("div", { class: "mono", id: "new-key-id" }, k.access_key_id),
        h("div", { class: "mono", id: "new-key-secret" }, k.secret_access_key),
        h("p", {}, h("button", { type: "button", onclick: () => navigator.clipboard && navigator.clipboard.writeText(k.secret_access_key) }, "Copy secret"),
          h("a", { class: "button", href: "data:text/csv;charset=utf-8," + encodeURIComponent(csv), download: `${k.access_key_id}.csv` }, "Download CSV"))));
    } catch (e) { shown.replaceChildren(errorBox(e.message)); }
  });
  const act = (label, fn, cls) => h("button", { class: cls || "", onclick: async () => { try { await fn(); route(); } catch (e) { alert(e.message); } } }, label);
  out.append(create, h("div", { class: "panel" }, table([
    { key: "access_key_id", label: "Key", render: (k) => h("span", { class: "mono" }, k.access_key_id) },
    { key: "user", label: "User" }, { key: "tenant", label: "Tenant", render: (k) => k.tenant || "–" },
    { key: "status", label: "Status", render: (k) => badge(k.status, k.status === "active" ? "ok" : "bad") },
    { key: "created_at", label: "Created", render: (k) => when(k.created_at) },
    { key: "last_used", label: "Last used", render: (k) => when(k.last_used) },
    { key: "actions", label: "", render: (k) => h("span", {},
      act(k.status === "active" ? "Disable" : "Enable", () => patch("/access-keys/" + k.access_key_id, { status: k.status === "active" ? "disabled" : "active" })),
      act("Delete", () => confirm(`Delete key ${k.access_key_id}? Programs using it stop working.`) && del("/access-keys/" + k.access_key_id), "danger")) },
  ], list, { empty: "No access keys yet.", sortKey: "created_at", desc: true })));
  return out;
}

async function audit() {
  const out = h("div");
  const f = { user: h("input", { id: "audit-user", placeholder: "user" }), action: h("input", { id: "audit-action", placeholder: "action or prefix*" }),
    result: h("select", { id: "audit-result" }, ["", "success", "failure", "denied"].map((r) => h("option", { value: r }, r || "any result"))),
    since: h("input", { id: "audit-since", type: "datetime-local" }) };
  const rows = [];
  const tableBox = h("div");
  const more = h("button", { id: "audit-more" }, "Load more");
  const exportLink = h("a", { class: "button", id: "audit-export" }, "Export JSON lines");
  let cursor = null;
  const params = () => ({ user: f.user.value.trim(), action: f.action.value.trim(), result: f.result.value,
    since: f.since.value ? new Date(f.since.value).toISOString() : "" });
  async function load(reset) {
    if (reset) { rows.length = 0; cursor = null; }
    const page = await get("/audit" + query({ ...params(), cursor, limit: 100 }));
    rows.push(...page.entries);
    cursor = page.next_cursor;
    more.disabled = !cursor;
    exportLink.href = "/api/v1/audit/export" + query(params());
    tableBox.replaceChildren(table([
      { key: "time", label: "Time", render: (e) => when(e.time) }, { key: "user", label: "User" },
      { key: "tenant", label: "Tenant", render: (e) => e.tenant || "–" }, { key: "action", label: "Action" },
      { key: "resource", label: "Resource", render: (e) => h("span", { class: "mono" }, e.resource) },
      { key: "result", label: "Result", render: (e) => badge(e.result, e.result === "success" ? "ok" : "bad") },
      { key: "source_ip", label: "Address" },
      { key: "detail", label: "Detail", render: (e) => e.detail ? h("span", { class: "mono" }, Object.entries(e.detail).map(([k, v]) => `${k}=${v}`).join(" ")) : "" },
    ], rows, { empty: "No entries match." }));
  }
  const form = h("form", { class: "panel form-row" }, Object.values(f).map((e) => h("div", {}, e)),
    h("div", {}, h("button", { class: "primary", type: "submit" }, "Filter")), h("div", {}, exportLink));
  form.addEventListener("submit", (ev) => { ev.preventDefault(); load(true).catch((e) => tableBox.replaceChildren(errorBox(e.message))); });
  more.addEventListener("click", () => load(false).catch((e) => alert(e.message)));
  out.append(form, h("div", { class: "panel" }, tableBox, h("div", { class: "pager" }, h("span", {}, "Newest first"), more)));
  await load(true);
  return out;
}

async function settings() {
  const list = await get("/settings");
  const out = h("div");
  const runtime = list.filter((s) => s.dynamic);
  const fixed = list.filter((s) => !s.dynamic);
  const msg = h("div");
  out.append(msg, h("div", { class: "panel" }, h("h2", {}, "Change without a restart"), table([
    { key: "name", label: "Setting", render: (s) => h("span", { class: "mono" }, s.name) },
    { key: "description", label: "Meaning" },
    { key: "value", label: "Value", render: (s) => {
      const input = h("input", { value: s.value, "data-setting": s.name, size: 10 });
      const save = h("button", { onclick: async () => {
        try { await put("/settings/" + encodeURIComponent(s.name), { value: input.value }); msg.replaceChildren(h("div", { class: "notice" }, `${s.name} is now ${input.value}.`)); }
        catch (e) { msg.replaceChildren(errorBox(e.message)); }
      } }, "Save");
      const reset = s.source === "runtime" ? h("button", { onclick: async () => { await del("/settings/" + encodeURIComponent(s.name)).catch((e) => alert(e.message)); route(); } }, "Reset") : "";
      return h("span", {}, input, save, reset);
    } },
    { key: "source", label: "Set by", render: (s) => s.source === "runtime" ? badge("console", "ok") : badge("configuration") },
  ], runtime)), h("div", { class: "panel" }, h("h2", {}, "Fixed until a restart"), table([
    { key: "name", label: "Setting", render: (s) => h("span", { class: "mono" }, s.name) },
    { key: "value", label: "Value", render: (s) => h("span", { class: "mono" }, s.value || "–") },
    { key: "description", label: "Meaning" },
  ], fixed)));
  return out;
}

async function profile() {
  const out = h("div");
  const msg = h("div");
  const current = h("input", { id: "current-password", type: "password", autocomplete: "current-password" });
  const next = h("input", { id: "new-password", type: "password", autocomplete: "new-password" });
  const pw = h("form", { class: "panel" }, h("h2", {}, "Password"),
    me.must_change_password ? h("div", { class: "notice" }, "Your password is temporary: choose a new one to go on.") : "",
    h("div", { class: "form-row" }, h("div", {}, h("label", {}, "Current password"), current),
      h("div", {}, h("label", {}, "New password"), next),
      h("div", {}, h("button", { class: "primary", type: "submit", id: "change-password" }, "Change"))),
    h("p", { class: "muted" }, "At least 8 characters with three of: lower case, upper case, digits, other characters."));
  pw.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await post("/auth/password", { current_password: current.value, new_password: next.value });
      me = await get("/me");
      msg.replaceChildren(h("div", { class: "notice" }, "The password is changed."));
      current.value = next.value = "";
    } catch (e) { msg.replaceChildren(errorBox(e.message)); }
  });
  out.append(msg, pw);
  if (me.must_change_password) return out;
  const tfa = await get("/auth/2fa");
  const box = h("div", { class: "panel", id: "two-factor" }, h("h2", {}, "Two-factor authentication"));
  if (tfa.enabled) {
    const pass = h("input", { type: "password", id: "disable-password", placeholder: "password or code" });
    box.append(h("p", {}, badge("on", "ok"), ` ${tfa.backup_codes_left} backup codes left.`),
      h("div", { class: "form-row" }, h("div", {}, pass), h("div", {}, h("button", { class: "danger", id: "disable-2fa", onclick: async () => {
        const v = pass.value;
        // The server takes either: the password, a current code or a backup code.
        try { await post("/auth/2fa/disable", { password: v, code: v }); route(); }
        catch (e) { msg.replaceChildren(errorBox(e.message)); }
      } }, "Turn off"))));
  } else {
    const start = h("button", { class: "primary", id: "setup-2fa", onclick: async () => {
      try {
        const s = await post("/auth/2fa/setup");
        const code = h("input", { id: "confirm-code", inputmode: "numeric", placeholder: "123456" });
        box.replaceChildren(h("h2", {}, "Two-factor authentication"),
          h("p", {}, "Add this account to your authenticator app with the key below (or the link), then enter the code it shows."),
          h("div", { class: "mono", id: "totp-secret" }, s.secret),
          h("p", {}, h("a", { href: s.otpauth_uri }, "Open in an authenticator app")),
          h("div", { class: "form-row" }, h("div", {}, code), h("div", {}, h("button", { class: "primary", id: "confirm-2fa", onclick: async () => {
            try {
              const r = await post("/auth/2fa/enable", { code: code.value.trim() });
              box.replaceChildren(h("h2", {}, "Two-factor authentication is on"),
                h("p", {}, "Keep these backup codes somewhere safe: each works once if you lose the device. They are not shown again."),
                h("div", { class: "codes", id: "backup-codes" }, r.backup_codes.map((c) => h("div", {}, c))));
            } catch (e) { msg.replaceChildren(errorBox(e.message)); }
          } }, "Confirm"))));
      } catch (e) { msg.replaceChildren(errorBox(e.message)); }
    } }, "Set up");
    box.append(h("p", {}, badge("off"), " Protect this account with a code from an authenticator app."), start);
  }
  out.append(box);
  return out;
}

window.addEventListener("hashchange", route);
route();
