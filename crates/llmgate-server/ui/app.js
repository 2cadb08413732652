// The llmgate dashboard: one module, no framework. It logs in through /v2/login and then
// calls only the gateway's public management API, with the session cookie and, on every
// state-changing call, the CSRF token from the `llmgate_csrf` cookie in `x-csrf-token`.

import { barChart, hbarChart } from './charts.js';

// ---------- DOM helpers (text always set as text, never parsed as HTML) ----------

function h(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else if (v === true) e.setAttribute(k, '');
    else e.setAttribute(k, String(v));
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid === null || kid === undefined || kid === false) continue;
    e.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return e;
}

const app = () => document.getElementById('app');

function toast(msg, kind = 'ok') {
  const t = document.getElementById('toast');
  t.className = kind;
  t.textContent = msg;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.textContent = ''; t.className = ''; }, 5000);
}

const money = (v) => (v === null || v === undefined ? '—' : `$${Number(v).toFixed(Number(v) > 0 && Number(v) < 1 ? 6 : 2)}`);
const num = (v) => (v === null || v === undefined ? '—' : Number(v).toLocaleString('en-US'));
const when = (v) => (v ? String(v).replace('T', ' ').replace(/\.\d+Z?$|Z$/, '') : '—');
const list = (v) => (Array.isArray(v) && v.length ? v.join(', ') : '—');
const day = (d) => d.toISOString().slice(0, 10);

// ---------- API ----------

function cookie(name) {
  for (const part of document.cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return '';
}

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  if (method !== 'GET') {
    headers['content-type'] = 'application/json';
    headers['x-csrf-token'] = cookie('llmgate_csrf');
  }
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  const text = await res.text();
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (!res.ok) {
    const err = data && (data.error || data.detail);
    const msg = (err && (err.message || err.error || (typeof err === 'string' ? err : null))) || `HTTP ${res.status}`;
    if (res.status === 401 && path !== '/v2/login' && path !== '/ui/session' && !path.startsWith('/onboarding/')) {
      me = null;
      renderLogin('Your session has ended. Log in again.');
    }
    throw new ApiError(res.status, msg);
  }
  return data;
}

// ---------- session ----------

let me = null; // {user_role, user_id, key_alias}
const isAdmin = () => me && me.user_role === 'proxy_admin';

function renderLogin(notice) {
  const error = h('p', { id: 'login-error', class: 'error', role: 'alert' }, notice || '');
  const user = h('input', { id: 'username', name: 'username', autocomplete: 'username', placeholder: 'admin' });
  const pass = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const form = h('form', { class: 'login card', onsubmit: async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    try {
      await api('POST', '/v2/login', { username: user.value, password: pass.value });
      await start();
    } catch (e) {
      error.textContent = e.status === 401 ? 'Invalid username or password.' : e.message;
      pass.value = '';
      pass.focus();
    }
  } },
  h('h1', {}, 'llmgate'),
  h('p', { class: 'muted' }, 'Log in with UI_USERNAME / UI_PASSWORD, the master key, your own API key as the password, or your user id or email and the password you set from an invitation.'),
  h('label', { for: 'username' }, 'Username'), user,
  h('label', { for: 'password' }, 'Password or API key'), pass,
  h('button', { type: 'submit', class: 'primary' }, 'Log in'),
  error);
  app().replaceChildren(h('main', { class: 'login-page' }, form));
  user.focus();
}

// An invitation link (`/ui/?invitation_id=<id>`): the invited user sets a password, which
// claims the invitation and logs them in.
async function renderOnboarding(invitationId) {
  const main = h('main', { class: 'login-page' });
  app().replaceChildren(main);
  let token;
  let email;
  try {
    const r = await api('GET', `/onboarding/get_token?invite_link=${encodeURIComponent(invitationId)}`);
    token = r.token;
    email = r.user_email;
  } catch (e) {
    main.replaceChildren(h('div', { class: 'login card' }, h('h1', {}, 'llmgate'),
      h('p', { id: 'onboarding-error', class: 'error', role: 'alert' }, e.message),
      h('a', { href: '/ui/' }, 'Go to the login page')));
    return;
  }
  // The onboarding token names the invited user (a JWT: its middle part is the claims).
  const claims = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
  const error = h('p', { id: 'onboarding-error', class: 'error', role: 'alert' });
  const pass = h('input', { id: 'new-password', type: 'password', autocomplete: 'new-password', required: true, minlength: 8 });
  const again = h('input', { id: 'new-password-again', type: 'password', autocomplete: 'new-password', required: true });
  const form = h('form', { class: 'login card', onsubmit: async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    if (pass.value !== again.value) { error.textContent = 'The passwords do not match.'; return; }
    const res = await fetch('/onboarding/claim_token', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ invitation_link: invitationId, user_id: claims.user_id, password: pass.value }),
    });
    const data = await res.json().catch(() => null);
    if (!res.ok) {
      const err = data && (data.error || data.detail);
      error.textContent = (err && (err.message || err.error)) || `HTTP ${res.status}`;
      return;
    }
    history.replaceState(null, '', '/ui/?login=success');
    await start();
  } },
  h('h1', {}, 'Set your password'),
  h('p', { class: 'muted' }, `You were invited to llmgate as ${email || claims.user_id}. Choose a password; you then log in with your ${email ? 'email' : 'user id'} and it.`),
  h('label', { for: 'invited-user' }, 'User'),
  h('input', { id: 'invited-user', value: email || claims.user_id, readonly: true, autocomplete: 'username' }),
  h('label', { for: 'new-password' }, 'Password (at least 8 characters)'), pass,
  h('label', { for: 'new-password-again' }, 'Password again'), again,
  h('button', { type: 'submit', class: 'primary' }, 'Set password and log in'),
  error);
  main.replaceChildren(form);
  pass.focus();
}

async function logout() {
  try { await api('POST', '/logout'); } catch { /* already gone */ }
  me = null;
  location.hash = '';
  renderLogin('You have logged out.');
}

// ---------- dialogs ----------

function dialog(title, body, actions) {
  const d = h('dialog', { class: 'dialog', 'aria-label': title }, h('h2', {}, title), body, h('div', { class: 'actions' }, actions));
  d.addEventListener('close', () => d.remove());
  document.body.append(d);
  d.showModal();
  return d;
}

function confirmDialog(message, verb = 'Confirm') {
  return new Promise((resolve) => {
    let ok = false;
    const d = dialog('Please confirm', h('p', {}, message), [
      h('button', { type: 'button', onclick: () => d.close() }, 'Cancel'),
      h('button', { type: 'button', class: 'danger', onclick: () => { ok = true; d.close(); } }, verb),
    ]);
    d.addEventListener('close', () => resolve(ok));
  });
}

function showSecret(title, key) {
  const code = h('code', { class: 'secret', id: 'new-secret' }, key);
  const status = h('span', { class: 'muted', role: 'status' });
  const d = dialog(title, [
    h('p', {}, 'Copy this key now: it is shown only once and cannot be read back.'),
    code, status,
  ], [
    h('button', { type: 'button', onclick: async () => {
      try { await navigator.clipboard.writeText(key); status.textContent = ' Copied.'; }
      catch { getSelection().selectAllChildren(code); status.textContent = ' Selected: press Ctrl+C to copy.'; }
    } }, 'Copy'),
    h('button', { type: 'button', class: 'primary', onclick: () => d.close() }, 'Done'),
  ]);
}

// A form from field specs: [name, label, type, options, keep] with type 'text', 'number',
// 'list' (comma separated), 'json' (an object), 'password', 'select' (options) or 'bool' (a
// checkbox). The string 'advanced' in the list puts the fields after it in a collapsed
// "Advanced" section. Creating sends the filled fields; editing (`initial` given) sends only
// the fields changed, and `null` for one that had a value and was emptied (the API clears it)
// — unless the route ignores null for it (`keep`, a reason): emptying it is then refused here.
function formDialog(title, fields, initial, submit) {
  const inputs = {};
  const error = h('p', { class: 'error', role: 'alert' });
  const shown = (v, type) => {
    if (v === null || v === undefined) return type === 'bool' ? false : '';
    if (type === 'bool') return Boolean(v);
    if (type === 'list') return Array.isArray(v) ? v.join(', ') : String(v);
    if (type === 'json') return typeof v === 'object' && Object.keys(v).length ? JSON.stringify(v, null, 1) : '';
    return String(v);
  };
  const row = ([name, label, type = 'text', opts, keep]) => {
    const id = `f-${name}`;
    const was = shown(initial ? initial[name] : undefined, type);
    let input;
    if (type === 'select') {
      input = h('select', { id, name }, opts.map((o) => h('option', { value: o, selected: was === o }, o || '(not set)')));
    } else if (type === 'json') {
      input = h('textarea', { id, name, rows: 2, spellcheck: 'false', placeholder: '{"…": …}' }, was);
    } else if (type === 'bool') {
      input = h('input', { id, name, type: 'checkbox', checked: was });
    } else {
      input = h('input', { id, name, type: type === 'list' ? 'text' : type, step: type === 'number' ? 'any' : null, value: was,
        autocomplete: type === 'password' ? 'new-password' : null });
    }
    inputs[name] = { input, type, label, was, keep };
    return type === 'bool'
      ? h('div', { class: 'field check' }, input, h('label', { for: id }, label))
      : h('div', { class: 'field' }, h('label', { for: id }, label), input);
  };
  const cut = fields.indexOf('advanced');
  const basic = cut < 0 ? fields : fields.slice(0, cut);
  const more = cut < 0 ? [] : fields.slice(cut + 1);
  const form = h('form', { class: 'form', id: 'entity-form' }, basic.map(row),
    more.length ? h('details', { class: 'advanced', id: 'advanced-fields' }, h('summary', {}, 'Advanced'), more.map(row)) : null,
    error);
  const d = dialog(title, form, [
    h('button', { type: 'button', onclick: () => d.close() }, 'Cancel'),
    h('button', { type: 'submit', class: 'primary', form: 'entity-form' }, 'Save'),
  ]);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    const body = {};
    for (const [name, { input, type, label, was, keep }] of Object.entries(inputs)) {
      if (type === 'bool') {
        if (initial ? input.checked !== was : input.checked) body[name] = input.checked;
        continue;
      }
      const raw = input.value.trim();
      if (initial && raw === was.trim()) continue;
      if (raw === '') {
        if (initial && keep) { error.textContent = `${label} cannot be emptied: ${keep}`; input.focus(); return; }
        if (initial) body[name] = null;
        continue;
      }
      if (type === 'number') {
        const n = Number(raw);
        if (!Number.isFinite(n)) { error.textContent = `${label}: "${raw}" is not a number.`; input.focus(); return; }
        body[name] = n;
      } else if (type === 'list') {
        body[name] = raw.split(',').map((x) => x.trim()).filter(Boolean);
      } else if (type === 'json') {
        let v;
        try { v = JSON.parse(raw); } catch (e) { error.textContent = `${label}: invalid JSON (${e.message}).`; input.focus(); return; }
        if (v === null || typeof v !== 'object' || Array.isArray(v)) { error.textContent = `${label}: must be a JSON object, like {"key": "value"}.`; input.focus(); return; }
        body[name] = v;
      } else {
        body[name] = raw;
      }
    }
    try { await submit(body); d.close(); } catch (e) { error.textContent = e.message; }
  });
  return d;
}

// ---------- tables ----------

function table(columns, rows, empty = 'Nothing here yet.') {
  if (!rows.length) return h('p', { class: 'muted empty' }, empty);
  return h('div', { class: 'table-wrap' }, h('table', {},
    h('thead', {}, h('tr', {}, columns.map(([label]) => h('th', { scope: 'col' }, label)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, columns.map(([label, cell]) => h('td', { 'data-label': label }, cell(r))))))));
}

function pager(page, pages, go) {
  return h('nav', { class: 'pager', 'aria-label': 'pages' },
    h('button', { type: 'button', disabled: page <= 1, onclick: () => go(page - 1) }, '‹ Prev'),
    h('span', { class: 'page-of' }, `Page ${page} of ${Math.max(pages, 1)}`),
    h('button', { type: 'button', disabled: page >= pages, onclick: () => go(page + 1) }, 'Next ›'));
}

function section(title, ...kids) {
  return h('section', { class: 'page' }, h('h1', {}, title), kids);
}

function failed(e) { return h('p', { class: 'error', role: 'alert' }, e.message); }

// ---------- virtual keys ----------

// The fields of /key/generate and /key/update (LiteLLM's GenerateKeyRequest), the common ones
// first; `create` adds those only a new key takes (its secret, its lifetime).
const KEY_FIELDS = (create) => [
  ['key_alias', 'Alias'],
  ...(isAdmin() ? [['user_id', 'Owner (user id)']] : []),
  ['team_id', 'Team id'],
  ['models', 'Models (comma separated)', 'list'],
  ['max_budget', 'Max budget ($)', 'number'],
  ['budget_duration', 'Budget period (e.g. 30d)'],
  ['tpm_limit', 'Tokens per minute', 'number'],
  ['rpm_limit', 'Requests per minute', 'number'],
  ...(create ? [['duration', 'Expires after (e.g. 30d)']] : []),
  ['tags', 'Tags (comma separated)', 'list'],
  'advanced',
  ...(create ? [['key', 'Custom secret (sk-…; empty: generated)', 'password']] : []),
  ['organization_id', 'Organization id'],
  ['budget_id', 'Budget id (a budget from the Budgets page)'],
  ['max_parallel_requests', 'Parallel requests', 'number'],
  ['soft_budget', 'Soft budget ($, alerts only)', 'number'],
  ['model_rpm_limit', 'Requests per minute per model (JSON, e.g. {"gpt-4o": 10})', 'json'],
  ['model_tpm_limit', 'Tokens per minute per model (JSON)', 'json'],
  ['model_max_budget', 'Per-model budgets (JSON)', 'json'],
  ['guardrails', 'Guardrails (comma separated)', 'list'],
  ['enforced_params', 'Enforced request params (comma separated)', 'list'],
  ['allowed_routes', 'Allowed routes (comma separated)', 'list'],
  ['allowed_cache_controls', 'Allowed cache controls (comma separated)', 'list'],
  ['aliases', 'Model aliases (JSON)', 'json'],
  ['permissions', 'Permissions (JSON)', 'json'],
  ['key_type', 'Key type', 'select', ['', 'default', 'llm_api', 'management', 'read_only']],
  ['auto_rotate', 'Rotate automatically', 'bool'],
  ['rotation_interval', 'Rotation interval (e.g. 30d)'],
  ['metadata', 'Metadata (JSON)', 'json'],
];

// Fields LiteLLM keeps in a key's metadata: shown as their own fields, not in its JSON.
const KEY_META = ['tags', 'guardrails', 'enforced_params', 'model_rpm_limit', 'model_tpm_limit'];

const keyState = { page: 1, search: '' };

async function keysPage() {
  const search = h('input', { type: 'search', id: 'key-search', placeholder: 'Key alias, sk-… key or hash', value: keyState.search, 'aria-label': 'Search keys' });
  const body = h('div', { id: 'keys-body' });
  const load = async () => {
    const q = new URLSearchParams({ page: keyState.page, size: 10, return_full_object: 'true' });
    const s = keyState.search.trim();
    if (s) q.set(/^sk-|^[0-9a-f]{64}$/.test(s) ? 'key_hash' : 'key_alias', s);
    try {
      const r = await api('GET', `/key/list?${q}`);
      const act = async (what, k) => {
        try {
          if (what === 'delete') {
            if (!(await confirmDialog(`Delete key ${k.key_alias || k.key_name}? Requests with it will fail at once.`, 'Delete'))) return;
            await api('POST', '/key/delete', { keys: [k.token] });
            toast('Key deleted.');
          } else if (what === 'regenerate') {
            if (!(await confirmDialog(`Regenerate ${k.key_alias || k.key_name}? The old secret stops working.`, 'Regenerate'))) return;
            const n = await api('POST', `/key/${encodeURIComponent(k.token)}/regenerate`);
            showSecret('New secret', n.key);
          } else {
            await api('POST', `/key/${what}`, { key: k.token });
            toast(what === 'block' ? 'Key blocked.' : 'Key unblocked.');
          }
        } catch (e) { toast(e.message, 'bad'); }
        load();
      };
      body.replaceChildren(
        table([
          ['Alias', (k) => k.key_alias || '—'],
          ['Key', (k) => h('code', {}, k.key_name || `${k.token.slice(0, 8)}…`)],
          ['Owner', (k) => k.user_id || '—'],
          ['Team', (k) => k.team_id || '—'],
          ['Models', (k) => list(k.models)],
          ['Spend / budget', (k) => `${money(k.spend)} / ${k.max_budget == null ? '∞' : money(k.max_budget)}`],
          ['Limits', (k) => `${k.tpm_limit ?? '—'} tpm · ${k.rpm_limit ?? '—'} rpm`],
          ['Expires', (k) => when(k.expires)],
          ['Status', (k) => h('span', { class: k.blocked ? 'badge bad' : 'badge ok' }, k.blocked ? 'Blocked' : 'Active')],
          ['', (k) => h('div', { class: 'row-actions' },
            h('button', { type: 'button', onclick: () => editKey(k, load) }, 'Edit'),
            isAdmin() ? h('button', { type: 'button', onclick: () => act(k.blocked ? 'unblock' : 'block', k) }, k.blocked ? 'Unblock' : 'Block') : null,
            isAdmin() ? h('button', { type: 'button', onclick: () => act('regenerate', k) }, 'Regenerate') : null,
            h('button', { type: 'button', class: 'danger', onclick: () => act('delete', k) }, 'Delete'))],
        ], r.keys, s ? 'No key matches.' : 'No keys yet.'),
        pager(r.current_page, r.total_pages, (p) => { keyState.page = p; load(); }),
        h('p', { class: 'muted' }, `${r.total_count} key(s)`));
    } catch (e) { body.replaceChildren(failed(e)); }
  };
  const create = () => formDialog('Create key', KEY_FIELDS(true), null, async (b) => {
    const k = await api('POST', '/key/generate', b);
    showSecret('Key created', k.key);
    load();
  });
  const doSearch = (ev) => { ev.preventDefault(); keyState.search = search.value; keyState.page = 1; load(); };
  const view = section('Virtual keys',
    h('form', { class: 'toolbar', onsubmit: doSearch, role: 'search' }, search,
      h('button', { type: 'submit' }, 'Search'),
      h('button', { type: 'button', class: 'primary', id: 'create-key', onclick: create }, '+ Create key')),
    body);
  await load();
  return view;
}

function editKey(k, done) {
  const meta = k.metadata && typeof k.metadata === 'object' ? k.metadata : {};
  const initial = { ...k, metadata: Object.fromEntries(Object.entries(meta).filter(([f]) => !KEY_META.includes(f))) };
  for (const f of KEY_META) initial[f] = meta[f];
  formDialog(`Edit ${k.key_alias || k.key_name}`, KEY_FIELDS(false), initial, async (b) => {
    // The fields LiteLLM keeps in the metadata are not cleared by null (as in LiteLLM): when
    // one of them or the metadata changed, the whole metadata is sent (it replaces the old
    // one), with those fields as they now are.
    if ('metadata' in b || KEY_META.some((f) => f in b)) {
      const next = { ...('metadata' in b ? (b.metadata || {}) : initial.metadata) };
      for (const f of KEY_META) {
        const v = f in b ? b[f] : meta[f];
        delete b[f];
        if (v !== null && v !== undefined) next[f] = v;
      }
      b.metadata = next;
    }
    await api('POST', '/key/update', { key: k.token, ...b });
    toast('Key updated.');
    done();
  });
}

// ---------- usage ----------

const range = { start: day(new Date(Date.now() - 29 * 86400000)), end: day(new Date()) };

function days(start, end) {
  const out = [];
  for (let t = Date.parse(`${start}T00:00:00Z`); t <= Date.parse(`${end}T00:00:00Z`); t += 86400000) out.push(day(new Date(t)));
  return out;
}

function totals(results, pick, meta) {
  const acc = new Map();
  for (const r of results) {
    for (const [name, b] of Object.entries(pick(r.breakdown || {}) || {})) {
      const m = b.metrics || b;
      const cur = acc.get(name) || { name, label: meta ? meta(name, b) : name, spend: 0, tokens: 0, requests: 0, failed: 0 };
      cur.spend += m.spend || 0;
      cur.tokens += m.total_tokens || 0;
      cur.requests += m.api_requests || 0;
      cur.failed += m.failed_requests || 0;
      acc.set(name, cur);
    }
  }
  return [...acc.values()].sort((a, b) => b.spend - a.spend || b.requests - a.requests);
}

// One breakdown: the top ten as horizontal bars (spend, or requests while nothing cost
// anything), then the same rows as a table.
function breakdown(title, id, rows) {
  const top = rows.slice(0, 10);
  const bySpend = top.some((r) => r.spend > 0);
  return h('div', { class: 'card breakdown', id }, h('h2', {}, title),
    top.length ? hbarChart(top.map((r) => ({ label: String(r.label), value: bySpend ? r.spend : r.requests })),
      { title: `${title} by ${bySpend ? 'spend' : 'requests'}`, format: bySpend ? money : num }) : null,
    table([
      ['Name', (r) => r.label], ['Spend', (r) => money(r.spend)], ['Tokens', (r) => num(r.tokens)],
      ['Requests', (r) => num(r.requests)], ['Failed', (r) => num(r.failed)],
    ], top, 'No usage in this range.'));
}

async function usagePage() {
  const start = h('input', { type: 'date', id: 'start', value: range.start, 'aria-label': 'From' });
  const end = h('input', { type: 'date', id: 'end', value: range.end, 'aria-label': 'To' });
  const body = h('div', { id: 'usage-body' });
  const load = async () => {
    if (!start.value || !end.value || start.value > end.value) {
      body.replaceChildren(failed({ message: 'Choose a start date on or before the end date.' }));
      return;
    }
    range.start = start.value; range.end = end.value;
    const q = new URLSearchParams({ start_date: range.start, end_date: range.end, page_size: 1000 });
    try {
      const [user, team, tag] = await Promise.all([
        api('GET', `/user/daily/activity?${q}`),
        isAdmin() ? api('GET', `/team/daily/activity?${q}`) : Promise.resolve(null),
        api('GET', `/tag/daily/activity?${q}`),
      ]);
      const byDay = new Map(user.results.map((r) => [r.date, r.metrics]));
      const series = (f) => days(range.start, range.end).map((d) => ({ label: d, value: byDay.has(d) ? f(byDay.get(d)) : 0 }));
      const m = user.metadata;
      const card = (label, value) => h('div', { class: 'card stat' }, h('span', { class: 'muted' }, label), h('strong', {}, value));
      const keyLabel = (k, b) => (b.metadata && b.metadata.key_alias) || `${k.slice(0, 10)}…`;
      body.replaceChildren(
        h('div', { class: 'stats' },
          card('Spend', money(m.total_spend)), card('Tokens', num(m.total_tokens)),
          card('Requests', num(m.total_api_requests)), card('Failed', num(m.total_failed_requests))),
        h('div', { class: 'card', id: 'spend-chart' }, h('h2', {}, 'Spend per day'),
          barChart(series((x) => x.spend), { title: 'Spend per day', format: (v) => `$${v.toFixed(v && v < 0.1 ? 4 : 2)}` })),
        h('div', { class: 'card' }, h('h2', {}, 'Tokens per day'),
          barChart(series((x) => x.total_tokens), { title: 'Tokens per day', format: num, integer: true })),
        h('div', { class: 'grid2' },
          h('div', { class: 'card', id: 'requests-chart' }, h('h2', {}, 'Requests per day'),
            barChart(series((x) => x.api_requests), { title: 'Requests per day', format: num, integer: true })),
          h('div', { class: 'card', id: 'failures-chart' }, h('h2', {}, 'Failed requests per day'),
            barChart(series((x) => x.failed_requests || 0), { title: 'Failed requests per day', format: num, integer: true, kind: 'bad' }))),
        h('div', { class: 'grid2' },
          breakdown('Top models', 'by-model', totals(user.results, (b) => b.model_groups)),
          breakdown('Top providers', 'by-provider', totals(user.results, (b) => b.providers)),
          breakdown('Top keys', 'by-key', totals(user.results, (b) => b.api_keys, keyLabel)),
          isAdmin() ? breakdown('Top users', 'by-user', totals(user.results, (b) => b.entities)) : null,
          team ? breakdown('Top teams', 'by-team', totals(team.results, (b) => b.entities,
            (k, b) => (b.metadata && b.metadata.team_alias) || k)) : null,
          breakdown('Top tags', 'by-tag', totals(tag.results, (b) => b.entities))));
    } catch (e) { body.replaceChildren(failed(e)); }
  };
  const view = section('Usage',
    h('form', { class: 'toolbar', onsubmit: (ev) => { ev.preventDefault(); load(); } },
      h('label', { for: 'start' }, 'From'), start, h('label', { for: 'end' }, 'To'), end,
      h('button', { type: 'submit' }, 'Apply')),
    body);
  await load();
  return view;
}

// ---------- logs ----------

const logState = { page: 1, f: {} };

async function logsPage() {
  const f = logState.f;
  const inp = (name, label, attrs = {}) => h('input', { id: `log-${name}`, name, placeholder: label, 'aria-label': label, value: f[name] || '', ...attrs });
  const filters = [
    inp('api_key', 'Key (sk-… or hash)'), isAdmin() ? inp('user_id', 'User') : null, isAdmin() ? inp('team_id', 'Team') : null,
    inp('model', 'Model'),
    h('select', { id: 'log-status_filter', name: 'status_filter', 'aria-label': 'Status' },
      ['', 'success', 'failure'].map((s) => h('option', { value: s, selected: f.status_filter === s }, s || 'any status'))),
    inp('start', 'From', { type: 'date', value: f.start || day(new Date(Date.now() - 6 * 86400000)) }),
    inp('end', 'To', { type: 'date', value: f.end || day(new Date()) }),
  ].filter(Boolean);
  const body = h('div', { id: 'logs-body' });
  const detail = h('div', { id: 'log-detail' });
  const load = async () => {
    for (const i of filters) f[i.name] = i.value.trim();
    const q = new URLSearchParams({ page: logState.page, page_size: 25,
      start_date: `${f.start} 00:00:00`, end_date: `${f.end} 23:59:59` });
    for (const k of ['api_key', 'user_id', 'team_id', 'model', 'status_filter']) if (f[k]) q.set(k, f[k]);
    try {
      const r = await api('GET', `/spend/logs/ui?${q}`);
      body.replaceChildren(table([
        ['Time', (l) => when(l.startTime)],
        ['Model', (l) => l.model_group || l.model],
        ['Key', (l) => (l.metadata && l.metadata.user_api_key_alias) || `${(l.api_key || '').slice(0, 10)}…`],
        ['User', (l) => l.user || '—'],
        ['Team', (l) => l.team_id || '—'],
        ['Tokens', (l) => num(l.total_tokens)],
        ['Cost', (l) => money(l.spend)],
        ['Latency', (l) => (l.request_duration_ms == null ? '—' : `${l.request_duration_ms} ms`)],
        ['Status', (l) => h('span', { class: l.status === 'failure' ? 'badge bad' : 'badge ok' }, l.status || 'success')],
        ['', (l) => h('button', { type: 'button', class: 'view-log', onclick: () => showLog(l, detail) }, 'Details')],
      ], r.data, 'No requests in this range.'),
      pager(r.page, r.total_pages, (p) => { logState.page = p; load(); }),
      h('p', { class: 'muted' }, `${r.total} request(s)`));
    } catch (e) { body.replaceChildren(failed(e)); }
  };
  const view = section('Logs',
    h('form', { class: 'toolbar wrap', onsubmit: (ev) => { ev.preventDefault(); logState.page = 1; load(); } },
      filters, h('button', { type: 'submit' }, 'Filter')),
    body, detail);
  await load();
  return view;
}

function showLog(l, into) {
  const md = l.metadata || {};
  const row = (k, v) => [h('dt', {}, k), h('dd', {}, v === null || v === undefined || v === '' ? '—' : String(v))];
  const err = md.error_information;
  into.replaceChildren(h('div', { class: 'card detail', role: 'region', 'aria-label': 'Request details' },
    h('h2', {}, `Request ${l.request_id}`),
    h('dl', {},
      row('Status', l.status || 'success'), row('Call type', l.call_type), row('Model', l.model),
      row('Model group', l.model_group), row('Provider', l.custom_llm_provider), row('API base', l.api_base),
      row('Started', when(l.startTime)), row('Ended', when(l.endTime)),
      row('Latency', l.request_duration_ms == null ? null : `${l.request_duration_ms} ms`),
      row('Prompt tokens', l.prompt_tokens), row('Completion tokens', l.completion_tokens),
      row('Total tokens', l.total_tokens), row('Cost', money(l.spend)), row('Cache hit', l.cache_hit),
      row('Key', md.user_api_key_alias || l.api_key), row('User', l.user), row('Team', l.team_id),
      row('End user', l.end_user), row('Tags', list(l.request_tags)),
      row('Error', err ? `${err.error_class || ''} ${err.error_message || ''}`.trim() : null)),
    logMessages(l),
    h('details', {}, h('summary', {}, 'Metadata'), h('pre', {}, JSON.stringify(md, null, 2)))));
  into.scrollIntoView({ block: 'nearest' });
}

// A spend-log JSON column that holds something: an object with keys, or text (a body too long
// for the log is kept as one cut string).
const stored = (v) => (v && typeof v === 'object' ? Object.keys(v).length > 0 : typeof v === 'string' && v !== '' && v !== '{}');
const pretty = (v) => (typeof v === 'string' ? v : JSON.stringify(v, null, 2));

// A message's content as text: a string, or the text of its parts (other parts by their type).
function contentText(c) {
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) return c.map((p) => (p && typeof p.text === 'string' ? p.text : `[${(p && p.type) || 'part'}]`)).join('\n');
  return c === null || c === undefined ? '' : JSON.stringify(c);
}

// The request and the answer, stored only with `store_prompts_in_spend_logs` (LiteLLM's
// `proxy_server_request` and `response` columns).
function logMessages(l) {
  const req = l.proxy_server_request, resp = l.response;
  if (!stored(req) && !stored(resp)) {
    return h('p', { class: 'muted', id: 'log-messages-off' },
      'Message logging is off: requests and responses are stored only with general_settings.store_prompts_in_spend_logs: true.');
  }
  const msgs = req && Array.isArray(req.messages) ? req.messages : null;
  const request = !stored(req) ? h('p', { class: 'muted' }, 'No request was stored.')
    : msgs ? h('ol', { class: 'messages', id: 'log-request-messages' },
      msgs.map((m) => h('li', {}, h('strong', {}, m.role || 'message'), ' ', h('span', { class: 'content' }, contentText(m.content)))))
      : h('pre', { id: 'log-request-body' }, pretty(req));
  const choice = resp && typeof resp === 'object' && Array.isArray(resp.choices) ? resp.choices[0] : null;
  const said = choice ? (choice.message ? contentText(choice.message.content) : choice.text) : null;
  const response = !stored(resp) ? h('p', { class: 'muted' }, 'No response was stored.')
    : h('pre', { id: 'log-response' }, said !== null && said !== undefined ? said : pretty(resp));
  return h('div', { class: 'log-messages' },
    h('h3', {}, 'Request'), request,
    stored(req) && msgs ? h('details', {}, h('summary', {}, 'Request body'), h('pre', {}, pretty(req))) : null,
    h('h3', {}, 'Response'), response,
    stored(resp) && said !== null && said !== undefined ? h('details', {}, h('summary', {}, 'Response body'), h('pre', {}, pretty(resp))) : null);
}

// ---------- models ----------

const MODEL_FIELDS = [
  ['model_name', 'Public model name'], ['model', 'Provider model (e.g. openai/gpt-4o)'],
  ['api_base', 'API base'], ['api_key', 'API key (stored encrypted, never shown)', 'password'],
  ['rpm', 'Requests per minute', 'number'], ['tpm', 'Tokens per minute', 'number'],
];

function modelBody(b) {
  const p = {};
  for (const k of ['model', 'api_base', 'api_key', 'rpm', 'tpm']) if (b[k] !== undefined) p[k] = b[k];
  return { model_name: b.model_name, litellm_params: p };
}

// "Test this model": LiteLLM's `/health?model=` probes its deployments with a one-token call.
async function testModel(name) {
  toast(`Testing ${name}…`);
  try {
    const r = await api('GET', `/health?model=${encodeURIComponent(name)}`);
    const bad = r.unhealthy_endpoints || [];
    if (bad.length) toast(`${name}: ${bad.length} deployment(s) failed: ${bad[0].error || 'error'}`, 'bad');
    else toast(`${name}: ${r.healthy_count} deployment(s) answered.`);
  } catch (e) { toast(e.message, 'bad'); }
}

async function modelsPage() {
  const body = h('div');
  const load = async () => {
    try {
      const r = await api('GET', '/v2/model/info?size=500');
      const per1m = (v) => (v == null ? '—' : `$${(v * 1e6).toFixed(2)}`);
      body.replaceChildren(table([
        ['Model', (m) => m.model_name],
        ['Provider', (m) => m.model_info.litellm_provider || '—'],
        ['Upstream', (m) => m.litellm_params.model || '—'],
        ['Health', (m) => {
          const s = m.deployment_state || {};
          if (s.cooling_down) return h('span', { class: 'badge warn', title: `until ${when(s.cooldown_until)}` }, 'Cooling down');
          return h('span', { class: s.healthy === false ? 'badge bad' : 'badge ok' }, s.healthy === false ? 'Unhealthy' : 'Healthy');
        }],
        ['Input / 1M', (m) => per1m(m.model_info.input_cost_per_token)],
        ['Output / 1M', (m) => per1m(m.model_info.output_cost_per_token)],
        ['Context', (m) => num(m.model_info.max_input_tokens ?? m.model_info.max_tokens)],
        ['Source', (m) => (m.model_info.db_model ? 'database' : 'config')],
        ['', (m) => h('div', { class: 'row-actions' },
          h('button', { type: 'button', class: 'test-model', onclick: () => testModel(m.model_name) }, 'Test'),
          isAdmin() && m.model_info.db_model ? [
          h('button', { type: 'button', onclick: () => formDialog(`Edit ${m.model_name}`, MODEL_FIELDS,
            { model_name: m.model_name, model: m.litellm_params.model, api_base: m.litellm_params.api_base,
              rpm: m.litellm_params.rpm, tpm: m.litellm_params.tpm }, async (b) => {
              // Only the changed params are sent; an emptied one is removed from the model.
              const cleared = Object.keys(b).filter((k) => b[k] === null && k !== 'model_name');
              for (const k of cleared) delete b[k];
              await api('POST', '/model/update', { ...modelBody({ model_name: m.model_name, ...b }),
                litellm_params_to_remove: cleared, model_info: { id: m.model_info.id } });
              toast('Model updated.'); load();
            }) }, 'Edit'),
          h('button', { type: 'button', class: 'danger', onclick: async () => {
            if (!(await confirmDialog(`Delete model ${m.model_name}?`, 'Delete'))) return;
            try { await api('POST', '/model/delete', { id: m.model_info.id }); toast('Model deleted.'); } catch (e) { toast(e.message, 'bad'); }
            load();
          } }, 'Delete')] : null)],
      ], r.data, 'No models.'));
    } catch (e) { body.replaceChildren(failed(e)); }
  };
  const view = section('Models',
    isAdmin() ? h('div', { class: 'toolbar' }, h('button', { type: 'button', class: 'primary', onclick: () =>
      formDialog('Add model', MODEL_FIELDS, null, async (b) => {
        await api('POST', '/model/new', modelBody(b)); toast('Model added.'); load();
      }) }, '+ Add model')) : null,
    body);
  await load();
  return view;
}

// ---------- teams, users, organizations, budgets ----------

const PAGE_SIZE = 25;

// A list page. `load(page)` answers the API's page ({rows, page, pages, total}) or, for a
// route LiteLLM does not page, the whole list (paged here, PAGE_SIZE rows at a time).
function entityPage({ title, load, columns, fields, create, remove, edit, more, initial = (r) => r }) {
  return async () => {
    const body = h('div');
    let page = 1;
    const refresh = async () => {
      try {
        let got = await load(page);
        if (Array.isArray(got)) {
          const pages = Math.max(1, Math.ceil(got.length / PAGE_SIZE));
          page = Math.min(page, pages);
          got = { rows: got.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE), page, pages, total: got.length };
        }
        const rows = got.rows;
        const actions = (r) => h('div', { class: 'row-actions' },
          more ? more(r, refresh) : null,
          edit ? h('button', { type: 'button', onclick: () => formDialog(`Edit ${title.replace(/s$/, '').toLowerCase()}`, fields, initial(r),
            async (b) => { await edit(r, b); toast('Saved.'); refresh(); }) }, 'Edit') : null,
          remove ? h('button', { type: 'button', class: 'danger', onclick: async () => {
            if (!(await confirmDialog(`Delete ${columns[0][1](r)}?`, 'Delete'))) return;
            try { await remove(r); toast('Deleted.'); } catch (e) { toast(e.message, 'bad'); }
            refresh();
          } }, 'Delete') : null);
        body.replaceChildren(table(isAdmin() ? [...columns, ['', actions]] : columns, rows),
          got.pages > 1 ? pager(got.page, got.pages, (p) => { page = p; refresh(); }) : '',
          h('p', { class: 'muted total' }, `${num(got.total)} in all`));
      } catch (e) { body.replaceChildren(failed(e)); }
    };
    const view = section(title,
      isAdmin() && create ? h('div', { class: 'toolbar' }, h('button', { type: 'button', class: 'primary', onclick: () =>
        formDialog(`New ${title.replace(/s$/, '').toLowerCase()}`, fields, null, async (b) => { await create(b); toast('Created.'); refresh(); }) },
      `+ New ${title.replace(/s$/, '').toLowerCase()}`)) : null,
      body);
    await refresh();
    return view;
  };
}

const budgetCell = (r) => `${money(r.spend)} / ${r.max_budget == null ? '∞' : money(r.max_budget)}`;
const limitsCell = (r) => `${r.tpm_limit ?? '—'} tpm · ${r.rpm_limit ?? '—'} rpm`;
// Organizations, end users and tags keep their limits in a budget row (LiteLLM's
// litellm_budget_table): shown and edited as the entity's own fields.
const withBudget = (r) => ({ ...r, ...pickLimits(r.litellm_budget_table) });
const pickLimits = (b) => Object.fromEntries(['max_budget', 'budget_duration', 'tpm_limit', 'rpm_limit']
  .filter((k) => b && b[k] !== undefined).map((k) => [k, b[k]]));
// LiteLLM's /user/update ignores null (but for max_budget), its /customer/update any null.
const USER_KEEPS = "/user/update keeps a field sent as null (as LiteLLM's); set another value.";
const CUSTOMER_KEEPS = "/customer/update keeps a field sent as null (as LiteLLM's); set another value.";
const LIMIT_FIELDS = [['max_budget', 'Max budget ($)', 'number'], ['budget_duration', 'Budget period (e.g. 30d)'],
  ['tpm_limit', 'Tokens per minute', 'number'], ['rpm_limit', 'Requests per minute', 'number']];

const teamsPage = entityPage({
  title: 'Teams',
  load: async (page) => {
    if (!isAdmin()) return (await api('GET', '/user/info')).teams || [];
    const r = await api('GET', `/v2/team/list?page=${page}&page_size=${PAGE_SIZE}`);
    return { rows: r.teams, page: r.page, pages: r.total_pages, total: r.total };
  },
  columns: [['Team', (t) => t.team_alias || t.team_id], ['Id', (t) => h('code', {}, t.team_id)],
    ['Members', (t) => num((t.members_with_roles || []).length)], ['Models', (t) => list(t.models)],
    ['Spend / budget', budgetCell], ['Limits', limitsCell],
    ['Status', (t) => h('span', { class: t.blocked ? 'badge bad' : 'badge ok' }, t.blocked ? 'Blocked' : 'Active')]],
  fields: [['team_alias', 'Alias'], ['models', 'Models (comma separated)', 'list'], ['max_budget', 'Max budget ($)', 'number'],
    ['budget_duration', 'Budget period'], ['tpm_limit', 'Tokens per minute', 'number'], ['rpm_limit', 'Requests per minute', 'number'],
    ['organization_id', 'Organization id']],
  more: (t, refresh) => h('button', { type: 'button', onclick: () => teamMembers(t, refresh) }, 'Members'),
  create: (b) => api('POST', '/team/new', b),
  edit: (t, b) => api('POST', '/team/update', { team_id: t.team_id, ...b }),
  remove: (t) => api('POST', '/team/delete', { team_ids: [t.team_id] }),
});

// Members of a team or an organization: listed, added with a role, removed.
function membersDialog({ title, load, rows, roles, roleOf, add, remove, refresh }) {
  const error = h('p', { class: 'error', role: 'alert' });
  const members = h('div');
  let current = rows;
  const reload = async () => { current = await load(); draw(); };
  const draw = () => members.replaceChildren(table([
    ['User', (m) => m.user_id || m.user_email || '—'], ['Role', (m) => roleOf(m) || '—'],
    ['', (m) => h('button', { type: 'button', class: 'danger', onclick: async () => {
      try { await remove(m); await reload(); } catch (e) { error.textContent = e.message; }
    } }, 'Remove')],
  ], current || [], 'No members yet.'));
  const user = h('input', { id: 'member-user', 'aria-label': 'User id', placeholder: 'user id' });
  const role = h('select', { id: 'member-role', 'aria-label': 'Role' }, roles.map((r) => h('option', { value: r }, r)));
  const form = h('form', { class: 'toolbar', onsubmit: async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    try { await add(user.value.trim(), role.value); user.value = ''; await reload(); } catch (e) { error.textContent = e.message; }
  } }, user, role, h('button', { type: 'submit' }, 'Add member'));
  draw();
  const d = dialog(title, [members, form, error], [
    h('button', { type: 'button', class: 'primary', onclick: () => d.close() }, 'Done'),
  ]);
  d.addEventListener('close', refresh);
}

function teamMembers(t, refresh) {
  const id = t.team_id;
  membersDialog({
    title: `Members of ${t.team_alias || id}`,
    rows: t.members_with_roles,
    load: async () => (await api('GET', `/team/info?team_id=${encodeURIComponent(id)}`)).team_info.members_with_roles,
    roles: ['user', 'admin'],
    roleOf: (m) => m.role || 'user',
    add: (user_id, role) => api('POST', '/team/member_add', { team_id: id, member: { user_id, role } }),
    remove: (m) => api('POST', '/team/member_delete', { team_id: id, user_id: m.user_id }),
    refresh,
  });
}

function orgMembers(o, refresh) {
  const id = o.organization_id;
  membersDialog({
    title: `Members of ${o.organization_alias || id}`,
    rows: o.members,
    load: async () => (await api('GET', `/organization/info?organization_id=${encodeURIComponent(id)}`)).members,
    roles: ['internal_user', 'internal_user_viewer', 'org_admin'],
    roleOf: (m) => m.user_role,
    add: (user_id, role) => api('POST', '/organization/member_add', { organization_id: id, member: { user_id, role } }),
    remove: (m) => api('POST', '/organization/member_delete', { organization_id: id, user_id: m.user_id }),
    refresh,
  });
}

const usersPage = entityPage({
  title: 'Users',
  load: async (page) => {
    const r = await api('GET', `/user/list?page=${page}&page_size=${PAGE_SIZE}`);
    return { rows: r.users, page: r.page, pages: r.total_pages, total: r.total };
  },
  columns: [['User', (u) => u.user_id], ['Email', (u) => u.user_email || '—'], ['Role', (u) => u.user_role || '—'],
    ['Teams', (u) => list(u.teams)], ['Spend / budget', budgetCell], ['Limits', limitsCell], ['Models', (u) => list(u.models)]],
  fields: [['user_id', 'User id'], ['user_email', 'Email', 'text', null, USER_KEEPS],
    ['user_role', 'Role', 'select', ['internal_user', 'internal_user_viewer', 'proxy_admin', 'proxy_admin_viewer']],
    ...LIMIT_FIELDS.map(([n, l, t]) => [n, l, t, null, n === 'max_budget' ? null : USER_KEEPS]),
    ['models', 'Models (comma separated)', 'list', null, USER_KEEPS]],
  more: (u) => h('button', { type: 'button', onclick: () => invite(u) }, 'Invite'),
  create: (b) => api('POST', '/user/new', b),
  edit: (u, b) => api('POST', '/user/update', { ...b, user_id: u.user_id }),
  remove: (u) => api('POST', '/user/delete', { user_ids: [u.user_id] }),
});

// An invitation for the user to set a password: the link to send them (LiteLLM's shape).
async function invite(u) {
  let inv;
  try { inv = await api('POST', '/invitation/new', { user_id: u.user_id }); } catch (e) { toast(e.message, 'bad'); return; }
  const link = `${location.origin}/ui/?invitation_id=${encodeURIComponent(inv.id)}`;
  const code = h('code', { class: 'secret', id: 'invitation-link' }, link);
  const status = h('span', { class: 'muted', role: 'status' });
  const d = dialog('Invitation link', [
    h('p', {}, `Send this link to ${u.user_email || u.user_id}: it lets them set a password once, until ${when(inv.expires_at)} UTC.`),
    code, status,
  ], [
    h('button', { type: 'button', onclick: async () => {
      try { await navigator.clipboard.writeText(link); status.textContent = ' Copied.'; }
      catch { getSelection().selectAllChildren(code); status.textContent = ' Selected: press Ctrl+C to copy.'; }
    } }, 'Copy'),
    h('button', { type: 'button', class: 'primary', onclick: () => d.close() }, 'Done'),
  ]);
}

const orgsPage = entityPage({
  title: 'Organizations',
  load: () => api('GET', '/organization/list'),
  columns: [['Organization', (o) => o.organization_alias || o.organization_id], ['Id', (o) => h('code', {}, o.organization_id)],
    ['Models', (o) => list(o.models)], ['Spend / budget', (o) => budgetCell(withBudget(o))], ['Limits', (o) => limitsCell(withBudget(o))],
    ['Members', (o) => num((o.members || []).length)]],
  fields: [['organization_alias', 'Alias'], ['models', 'Models (comma separated)', 'list'], ...LIMIT_FIELDS],
  initial: withBudget,
  more: (o, refresh) => h('button', { type: 'button', onclick: () => orgMembers(o, refresh) }, 'Members'),
  create: (b) => api('POST', '/organization/new', b),
  edit: (o, b) => api('PATCH', '/organization/update', { organization_id: o.organization_id, ...b }),
  remove: (o) => api('POST', '/organization/delete', { organization_ids: [o.organization_id] }),
});

const budgetsPage = entityPage({
  title: 'Budgets',
  load: () => api('GET', '/budget/list'),
  columns: [['Budget', (b) => b.budget_id], ['Max budget', (b) => money(b.max_budget)], ['Period', (b) => b.budget_duration || '—'],
    ['Limits', (b) => `${b.tpm_limit ?? '—'} tpm · ${b.rpm_limit ?? '—'} rpm`]],
  fields: [['budget_id', 'Budget id'], ['max_budget', 'Max budget ($)', 'number'], ['budget_duration', 'Period (e.g. 30d)'],
    ['tpm_limit', 'Tokens per minute', 'number'], ['rpm_limit', 'Requests per minute', 'number']],
  create: (b) => api('POST', '/budget/new', b),
  edit: (x, b) => api('POST', '/budget/update', { ...b, budget_id: x.budget_id }),
  remove: (b) => api('POST', '/budget/delete', { id: b.budget_id }),
});

const customersPage = entityPage({
  title: 'End users',
  load: () => api('GET', '/customer/list'),
  columns: [['End user', (c) => c.user_id], ['Alias', (c) => c.alias || '—'], ['Spend', (c) => money(c.spend)],
    ['Budget', (c) => money(withBudget(c).max_budget)], ['Limits', (c) => limitsCell(withBudget(c))],
    ['Status', (c) => h('span', { class: c.blocked ? 'badge bad' : 'badge ok' }, c.blocked ? 'Blocked' : 'Active')]],
  fields: [['user_id', 'End user id'], ['alias', 'Alias', 'text', null, CUSTOMER_KEEPS],
    ...LIMIT_FIELDS.map(([n, l, t]) => [n, l, t, null, CUSTOMER_KEEPS])],
  initial: withBudget,
  create: (b) => api('POST', '/customer/new', b),
  edit: (c, b) => api('POST', '/customer/update', { ...b, user_id: c.user_id }),
  remove: (c) => api('POST', '/customer/delete', { user_ids: [c.user_id] }),
});

const tagsPage = entityPage({
  title: 'Tags',
  load: async () => {
    const r = await api('GET', '/tag/list');
    return Array.isArray(r) ? r : Object.values(r || {});
  },
  columns: [['Tag', (t) => t.name], ['Description', (t) => t.description || '—'], ['Models', (t) => list(t.models)],
    ['Spend / budget', (t) => budgetCell(withBudget(t))], ['Limits', (t) => limitsCell(withBudget(t))]],
  fields: [['name', 'Name'], ['description', 'Description'], ['models', 'Models (comma separated)', 'list'], ...LIMIT_FIELDS],
  initial: withBudget,
  create: (b) => api('POST', '/tag/new', b),
  edit: (t, b) => api('POST', '/tag/update', { ...b, name: t.name }),
  remove: (t) => api('POST', '/tag/delete', { name: t.name }),
});

// ---------- settings (read-only) ----------

// A JSON value as YAML text (what config.yaml looks like), for reading only.
function yamlText(v, indent = '') {
  const quote = (x) => x === '' || /^[\s#&*!|>'"%@`{[\]},?-]|: | #|\s$|^(true|false|null|~|[-+]?[\d.]+)$/i.test(x);
  const scalar = (x) => (typeof x === 'string' ? (quote(x) ? JSON.stringify(x) : x) : String(x));
  const nested = (x) => x !== null && typeof x === 'object' && Object.keys(x).length > 0;
  const inline = (x) => (Array.isArray(x) ? '[]' : x !== null && typeof x === 'object' ? '{}' : scalar(x));
  if (!nested(v)) return indent + inline(v);
  if (Array.isArray(v)) {
    return v.map((x) => (nested(x) ? `${indent}- ${yamlText(x, `${indent}  `).trimStart()}` : `${indent}- ${inline(x)}`)).join('\n');
  }
  return Object.entries(v).map(([k, x]) => (nested(x) ? `${indent}${k}:\n${yamlText(x, `${indent}  `)}` : `${indent}${k}: ${inline(x)}`)).join('\n');
}

function settingsCard(title, id, value, empty) {
  const has = value && (Array.isArray(value) ? value.length : Object.keys(value).length);
  return h('div', { class: 'card', id }, h('h2', {}, title),
    has ? h('pre', { class: 'yaml' }, yamlText(value)) : h('p', { class: 'muted' }, empty));
}

async function settingsPage() {
  const [r, c] = await Promise.all([api('GET', '/health/readiness/details'), api('GET', '/get/config/callbacks')]);
  const cfg = c.config || {};
  const ls = cfg.litellm_settings || {};
  const row = (k, v) => [h('dt', {}, k), h('dd', {}, v === null || v === undefined || v === '' ? '—' : String(v))];
  const vars = (vs) => h('div', { class: 'vars' }, Object.entries(vs || {}).map(([k, v]) =>
    h('div', {}, h('code', {}, k), ' ', v === null ? h('span', { class: 'muted' }, 'not set') : String(v))));
  // LiteLLM always lists e-mail alerting; shown here only once a variable of it is set.
  const alerts = (c.alerts || []).filter((a) => a.name !== 'email' || Object.values(a.variables || {}).some((v) => v !== null));
  const cache = Object.fromEntries(Object.entries(ls).filter(([k]) => k === 'cache' || k.startsWith('cache_')));
  return section('Settings',
    h('p', { class: 'muted' }, 'The configuration this instance loaded, read-only. Secrets are masked (********); values read from the environment show the variable (os.environ/NAME), never its value.'),
    h('div', { class: 'card detail' }, h('h2', {}, 'Gateway'), h('dl', {},
      row('Version', r.litellm_version), row('Database', r.db), row('Redis', r.redis),
      row('Response cache', r.cache), row('Callbacks', list(r.success_callbacks)),
      row('Log level', r.log_level), row('Spend logs waiting to be written', r.spend_backlog))),
    h('div', { class: 'card', id: 'unsupported' }, h('h2', {}, 'Config keys llmgate does not support (ignored)'),
      (c.unsupported_settings || []).length
        ? h('ul', { class: 'paths' }, c.unsupported_settings.map((x) => h('li', {}, h('code', {}, x.path), x.note ? ` — ${x.note}` : '')))
        : h('p', { class: 'muted' }, 'None: every key this config sets is supported.')),
    h('div', { class: 'card', id: 'unknown' }, h('h2', {}, 'Config keys LiteLLM does not document either (typos?)'),
      (c.unknown_settings || []).length
        ? h('ul', { class: 'paths' }, c.unknown_settings.map((x) => h('li', {}, h('code', {}, x))))
        : h('p', { class: 'muted' }, 'None.')),
    h('div', { class: 'card', id: 'callbacks' }, h('h2', {}, 'Callbacks and alerting'),
      table([['Name', (x) => x.name], ['Type', (x) => x.type || 'alerting'], ['Variables', (x) => vars(x.variables)]],
        [...(c.callbacks || []), ...alerts], 'No callbacks or alerting configured.')),
    h('div', { class: 'grid2' },
      settingsCard('Router settings', 'router-settings', c.router_settings, 'Defaults (router_settings is not set).'),
      settingsCard('Cache', 'cache-settings', cache, 'No response cache configured.')),
    settingsCard('Guardrails', 'guardrail-settings', cfg.guardrails, 'No guardrails configured.'),
    settingsCard('General settings', 'general-settings', cfg.general_settings, 'general_settings is not set.'),
    settingsCard('LiteLLM settings', 'litellm-settings', ls, 'litellm_settings is not set.'),
    settingsCard('Models (model_list)', 'model-list', cfg.model_list, 'No models in the config.'),
    cfg.mcp_servers ? settingsCard('MCP servers', 'mcp-settings', cfg.mcp_servers, '') : null,
    h('details', { class: 'card', id: 'config-yaml' }, h('summary', {}, 'The whole config, as loaded'),
      h('pre', { class: 'yaml' }, yamlText(cfg))));
}

// ---------- shell ----------

const PAGES = [
  ['keys', 'Keys', keysPage, false],
  ['usage', 'Usage', usagePage, false],
  ['logs', 'Logs', logsPage, false],
  ['models', 'Models', modelsPage, false],
  ['teams', 'Teams', teamsPage, false],
  ['users', 'Users', usersPage, true],
  ['orgs', 'Organizations', orgsPage, true],
  ['budgets', 'Budgets', budgetsPage, true],
  ['customers', 'End users', customersPage, true],
  ['tags', 'Tags', tagsPage, true],
  ['settings', 'Settings', settingsPage, true],
];

async function render() {
  if (!me) return;
  const visible = PAGES.filter(([, , , adminOnly]) => !adminOnly || isAdmin());
  const name = location.hash.replace(/^#\/?/, '') || 'keys';
  const page = visible.find(([n]) => n === name) || visible[0];
  const main = h('main', { id: 'main', tabindex: '-1' }, h('p', { class: 'loading' }, 'Loading…'));
  const nav = h('nav', { class: 'nav', 'aria-label': 'sections' }, visible.map(([n, label]) =>
    h('a', { href: `#/${n}`, 'aria-current': n === page[0] ? 'page' : null }, label)));
  app().replaceChildren(
    h('header', { class: 'top' },
      h('a', { class: 'brand', href: '#/keys' }, 'llmgate'), nav,
      h('div', { class: 'who' },
        h('span', { id: 'who', title: me.user_role }, isAdmin() ? 'Admin' : (me.key_alias || me.user_id || 'Internal user')),
        h('button', { type: 'button', id: 'logout', onclick: logout }, 'Log out'))),
    main);
  try {
    const view = await page[2]();
    main.replaceChildren(view);
  } catch (e) {
    if (e.status !== 401) main.replaceChildren(failed(e));
  }
}

async function start() {
  const invitation = new URLSearchParams(location.search).get('invitation_id');
  if (invitation) return renderOnboarding(invitation);
  try {
    const s = await api('GET', '/ui/session');
    me = s && s.logged_in ? s : null;
  } catch {
    me = null;
  }
  if (!me) return renderLogin();
  if (location.search.includes('login=success')) history.replaceState(null, '', `/ui/${location.hash}`);
  await render();
}

window.addEventListener('hashchange', render);
start();
