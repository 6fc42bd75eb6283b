// Payload Chat web client: plain ES module, no build step.  Talks to the
// REST API at /api and follows one EventSource on /api/messages/sse that
// carries the signed-in user's messages.  Every text from the server is
// rendered with textContent, never as HTML.
const API = '/api';
const PAGE = 50;
const $ = (id) => document.getElementById(id);

const state = {
  mode: null,          // 'open' | 'members'
  me: null,            // {id, email}
  people: new Map(),   // id -> {id, email}
  peer: null,          // id of the open conversation
  messages: new Map(), // id -> doc (sender/receiver as ids)
  pending: new Map(),  // temporary key -> {doc, el}
  read: new Map(),     // peer id -> {counted: highest message id counted or read, n: unread}
  talked: new Map(),   // peer id -> createdAt of the last message with them
  search: '',          // the people search box's text
  found: null,         // ids the search found (null: no search)
  editing: null,       // {id, draft} of the message edited in place
  confirming: null,    // id of the message whose delete waits for a confirm
  source: null,
  lastEventId: null,
  reconnectTimer: null,
  oldestLoaded: new Map(), // peer id -> createdAt of the oldest loaded
};

// ---- the API --------------------------------------------------------------

async function api(method, path, body) {
  const res = await fetch(API + path, {
    method,
    credentials: 'same-origin',
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  let data = null;
  try { data = await res.json(); } catch { /* empty body */ }
  if (!res.ok) {
    const msg = data?.errors?.[0]?.message || `${res.status} ${res.statusText}`;
    const err = new Error(msg);
    err.status = res.status;
    throw err;
  }
  return data;
}

const qs = (params) => Object.entries(params)
  .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');

const idOf = (v) => (v && typeof v === 'object' ? v.id : v);

function normalize(doc) {
  return { ...doc, sender: idOf(doc.sender), receiver: idOf(doc.receiver) };
}

function remember(user) {
  if (user && typeof user === 'object' && user.email) {
    state.people.set(user.id, { id: user.id, email: user.email });
  }
}

// ---- sign in --------------------------------------------------------------

// Asked without the cookie: in `members` mode a signed-in browser would
// read the messages too and take the server for an open one.
async function detectMode() {
  const res = await fetch(`${API}/messages?limit=1&depth=0`, { credentials: 'omit' });
  if (res.ok) return 'open';
  if (res.status === 401 || res.status === 403) return 'members';
  throw new Error(`${res.status} ${res.statusText}`);
}

async function start() {
  state.mode = await detectMode();
  let me = null;
  try { me = (await api('GET', '/users/me')).user; } catch { /* signed out */ }
  if (!me && state.mode === 'open') {
    const saved = Number(localStorage.getItem('pchat.me'));
    if (saved) {
      try { me = await api('GET', `/users/${saved}?depth=0`); } catch { /* gone */ }
    }
  }
  if (me) enter(me); else showAuth();
}

function showAuth(message = '') {
  $('chat').hidden = true;
  $('auth').hidden = false;
  $('logout').hidden = true;
  $('conn').hidden = true;   // no stream is meant to be open here
  $('whoami').textContent = '';
  $('auth-error').textContent = message;
  $('pick').hidden = state.mode !== 'open';
  if (state.mode === 'open') fillPickList();
}

async function fillPickList() {
  const list = $('pick-list');
  list.replaceChildren();
  const { docs } = await api('GET', '/users?limit=1000&sort=email&depth=0');
  for (const u of docs) {
    const li = document.createElement('li');
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = u.email;
    b.dataset.testid = 'pick-user';
    b.addEventListener('click', () => enter(u));
    li.append(b);
    list.append(li);
  }
}

async function login(email, password) {
  const data = await api('POST', '/users/login', { email, password });
  enter(data.user);
}

$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const f = ev.target;
  try {
    await login(f.email.value.trim(), f.password.value);
  } catch (e) {
    $('auth-error').textContent = e.message;
  }
});

$('signup').addEventListener('click', async () => {
  const f = $('login-form');
  if (!f.reportValidity()) return;
  try {
    await api('POST', '/users', { email: f.email.value.trim(), password: f.password.value });
    await login(f.email.value.trim(), f.password.value);
  } catch (e) {
    $('auth-error').textContent = e.message;
  }
});

// Logging out ends the cookie session in both modes (in `open` mode a sign-up
// logs in too) and forgets the user picked in this browser.
$('logout').addEventListener('click', async () => {
  try { await api('POST', '/users/logout'); } catch { /* already out */ }
  localStorage.removeItem('pchat.me');
  state.source?.close();
  state.source = null;
  state.me = null;
  state.peer = null;
  state.messages.clear();
  state.talked.clear();
  showAuth();
});

// ---- the chat ---------------------------------------------------------------

async function enter(user) {
  state.me = { id: user.id, email: user.email };
  localStorage.setItem('pchat.me', String(user.id));
  state.read = new Map(JSON.parse(localStorage.getItem(readKey()) || '[]'));
  $('auth').hidden = true;
  $('chat').hidden = false;
  $('logout').hidden = false;
  $('whoami').textContent = user.email;
  await loadPeople();
  connect();
}

// ---- unread counts ----------------------------------------------------------
// Per user and peer, in this browser: the highest message id already counted
// or read, and the unread count.  The stream replays a backlog on every page
// load; messages at or below the mark are not counted again.

const readKey = () => `pchat.read.${state.me.id}`;

function saveRead() {
  localStorage.setItem(readKey(), JSON.stringify([...state.read]));
}

const readOf = (peer) => state.read.get(peer) || { counted: 0, n: 0 };
const unreadOf = (peer) => readOf(peer).n;

// Everything up to message id `upTo` with `peer` has been read.
function markRead(peer, upTo = 0) {
  const r = readOf(peer);
  state.read.set(peer, { counted: Math.max(r.counted, upTo), n: 0 });
  saveRead();
}

function lastIdWith(peer) {
  let max = 0;
  for (const d of state.messages.values()) if (inConversation(d, peer) && d.id > max) max = d.id;
  return max;
}

// ---- people -------------------------------------------------------------------
// The people you have talked with (most recent first), then the first
// PEOPLE users A-Z; the search box finds anyone else by email.

const PEOPLE = 50;

function talkedWith(doc) {
  const me = state.me.id;
  const peer = doc.sender === me ? doc.receiver : doc.sender;
  const prev = state.talked.get(peer);
  if (!prev || prev < doc.createdAt) state.talked.set(peer, doc.createdAt);
}

async function loadPeople() {
  if (!state.me) return;
  const me = state.me.id;
  const [{ docs: users }, { docs: recent }] = await Promise.all([
    api('GET', '/users?' + qs({ limit: PEOPLE, sort: 'email', depth: 0 })),
    // depth=1: the people of these messages come with them
    api('GET', '/messages?' + qs({ 'where[or][0][sender][equals]': me,
      'where[or][1][receiver][equals]': me, sort: '-createdAt', limit: 200, depth: 1 })),
  ]);
  users.forEach(remember);
  for (const m of recent) {
    remember(m.sender);
    remember(m.receiver);
    talkedWith(normalize(m));
  }
  renderPeople();
}

let searchSeq = 0;

async function searchPeople(text) {
  state.search = text.trim();
  const seq = ++searchSeq;
  if (!state.search) {
    state.found = null;
    renderPeople();
    return;
  }
  const { docs } = await api('GET', '/users?' + qs({ 'where[email][like]': state.search,
    limit: PEOPLE, sort: 'email', depth: 0 }));
  if (seq !== searchSeq) return;   // a newer search is on its way
  docs.forEach(remember);
  state.found = docs.map((u) => u.id);
  renderPeople();
}

let searchTimer = null;
$('people-search').addEventListener('input', (ev) => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => searchPeople(ev.target.value).catch(() => {}), 200);
});

// Who is in the list, in order: people talked with first (most recent
// first), then the rest A-Z.
function peopleShown() {
  const byEmail = (a, b) => a.email.localeCompare(b.email);
  const pool = state.found
    ? state.found.map((id) => state.people.get(id)).filter(Boolean)
    : [...state.people.values()];
  const others = pool.filter((u) => u.id !== state.me.id);
  const talked = others.filter((u) => state.talked.has(u.id))
    .sort((a, b) => (state.talked.get(a.id) < state.talked.get(b.id) ? 1 : -1));
  return [...talked, ...others.filter((u) => !state.talked.has(u.id)).sort(byEmail)];
}

function renderPeople() {
  const list = $('people');
  list.replaceChildren();
  for (const u of peopleShown()) {
    const li = document.createElement('li');
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'person' + (u.id === state.peer ? ' active' : '');
    b.dataset.testid = 'person';
    b.dataset.id = u.id;
    b.dataset.email = u.email;
    const name = document.createElement('span');
    name.textContent = u.email;
    b.append(name);
    const n = unreadOf(u.id);
    const badge = document.createElement('span');
    badge.className = 'badge';
    badge.dataset.testid = 'unread';
    badge.textContent = n ? String(n) : '';
    badge.hidden = !n;
    badge.setAttribute('aria-label', `${n} unread`);
    b.append(badge);
    if (u.id === state.peer) b.setAttribute('aria-current', 'true');
    b.addEventListener('click', () => openConversation(u.id));
    li.append(b);
    list.append(li);
  }
}

function pairWhere(peer) {
  const me = state.me.id;
  return {
    'where[or][0][and][0][sender][equals]': me,
    'where[or][0][and][1][receiver][equals]': peer,
    'where[or][1][and][0][sender][equals]': peer,
    'where[or][1][and][1][receiver][equals]': me,
  };
}

async function openConversation(peer) {
  state.peer = peer;
  state.editing = null;
  state.confirming = null;
  markRead(peer, lastIdWith(peer));
  document.body.classList.add('in-conversation');
  $('peer-name').textContent = state.people.get(peer)?.email ?? `user ${peer}`;
  $('composer').hidden = false;
  renderPeople();
  renderMessages();
  await loadPage(peer);
  if (state.peer === peer && !document.hidden) markRead(peer, lastIdWith(peer));
  $('text').focus();
}

// One page of history older than what is loaded, newest first from the API.
async function loadPage(peer) {
  const params = { ...pairWhere(peer), sort: '-createdAt', limit: PAGE, depth: 0 };
  const oldest = state.oldestLoaded.get(peer);
  if (oldest) params['where[and][0][createdAt][less_than]'] = oldest;
  const { docs, hasNextPage } = await api('GET', '/messages?' + qs(params));
  for (const d of docs) {
    const doc = normalize(d);
    state.messages.set(doc.id, doc);
    talkedWith(doc);
  }
  if (docs.length) state.oldestLoaded.set(peer, docs[docs.length - 1].createdAt);
  if (state.peer !== peer) return;
  $('older').hidden = !hasNextPage;
  renderMessages(!oldest);
}

$('older').addEventListener('click', () => state.peer && loadPage(state.peer));
$('back').addEventListener('click', () => document.body.classList.remove('in-conversation'));

function inConversation(doc, peer) {
  const me = state.me.id;
  return (doc.sender === me && doc.receiver === peer) || (doc.sender === peer && doc.receiver === me);
}

const byTime = (a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id - b.id);

const shownAt = (doc) => new Date(doc.timestamp || doc.createdAt);
const dayOf = (d) => `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;

function dayLabel(d) {
  const today = new Date();
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (dayOf(d) === dayOf(today)) return 'Today';
  if (dayOf(d) === dayOf(yesterday)) return 'Yesterday';
  return d.toLocaleDateString([], { weekday: 'short', year: 'numeric', month: 'short', day: 'numeric' });
}

function daySeparator(d) {
  const li = document.createElement('li');
  li.className = 'day';
  li.dataset.testid = 'day';
  li.setAttribute('role', 'separator');
  li.textContent = dayLabel(d);
  return li;
}

function renderMessages(stickToBottom = true) {
  const box = $('messages');
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  const list = $('message-list');
  list.replaceChildren();
  if (!state.peer) return;
  const docs = [...state.messages.values()].filter((d) => inConversation(d, state.peer)).sort(byTime);
  const items = docs.map((d) => [d, false]);
  for (const p of state.pending.values()) {
    if (p.doc.receiver === state.peer) items.push([p.doc, true]);
  }
  let day = null;
  for (const [d, pending] of items) {
    const when = shownAt(d);
    if (dayOf(when) !== day) {
      day = dayOf(when);
      list.append(daySeparator(when));
    }
    list.append(messageItem(d, pending));
  }
  const editor = list.querySelector('textarea.edit');
  if (editor && document.activeElement !== editor) {
    editor.focus();
    editor.setSelectionRange(editor.value.length, editor.value.length);
  }
  if (stickToBottom || atBottom) box.scrollTop = box.scrollHeight;
}

function messageItem(doc, pending) {
  const mine = doc.sender === state.me.id;
  const li = document.createElement('li');
  li.className = 'msg' + (mine ? ' mine' : '') + (pending ? ' pending' : '');
  li.dataset.testid = 'message';
  if (!pending) li.dataset.id = doc.id;
  const editing = !pending && state.editing?.id === doc.id;
  li.append(editing ? editor(doc) : textOf(doc));
  const meta = document.createElement('span');
  meta.className = 'meta';
  const when = shownAt(doc);
  const time = document.createElement('time');
  time.dateTime = when.toISOString();
  time.title = when.toLocaleString([], { dateStyle: 'full', timeStyle: 'short' });
  time.textContent = when.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  meta.append(time);
  if (pending) meta.append(' · sending…');
  if (doc.updatedAt && doc.createdAt && doc.updatedAt !== doc.createdAt && !pending) {
    const edited = document.createElement('span');
    edited.className = 'edited';
    edited.dataset.testid = 'edited';
    edited.textContent = 'edited';
    edited.title = `edited ${new Date(doc.updatedAt).toLocaleString()}`;
    meta.append(' · ', edited);
  }
  li.append(meta);
  if (!mine || pending) return li;
  if (editing) {
    meta.append(' ', actionButton('Save', () => saveEdit(), 'save-edit'),
      ' ', actionButton('Cancel', () => cancelEdit(), 'cancel-edit'));
  } else if (state.confirming === doc.id) {
    const ask = document.createElement('span');
    ask.className = 'confirm';
    ask.dataset.testid = 'confirm';
    ask.textContent = 'Delete this message?';
    meta.append(' ', ask, ' ', actionButton('Delete', () => deleteMessage(doc), 'confirm-delete'),
      ' ', actionButton('Keep', () => { state.confirming = null; renderMessages(false); }, 'cancel-delete'));
  } else {
    meta.append(' ', actionButton('Edit', () => startEdit(doc), 'edit'),
      ' ', actionButton('Delete', () => { state.confirming = doc.id; state.editing = null; renderMessages(false); }, 'delete'));
  }
  return li;
}

function textOf(doc) {
  const text = document.createElement('p');
  text.className = 'text';
  text.textContent = doc.content;           // text only, never HTML
  return text;
}

// ---- editing in place: Enter saves, Shift+Enter adds a line, Escape cancels

function editor(doc) {
  const ta = document.createElement('textarea');
  ta.className = 'edit';
  ta.dataset.testid = 'edit-text';
  ta.setAttribute('aria-label', 'Edit message');
  ta.rows = Math.min(6, state.editing.draft.split('\n').length);
  ta.value = state.editing.draft;
  ta.addEventListener('input', () => { if (state.editing) state.editing.draft = ta.value; });
  ta.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      saveEdit();
    } else if (ev.key === 'Escape') {
      ev.preventDefault();
      cancelEdit();
    }
  });
  if (state.editing.error) ta.title = state.editing.error;
  return ta;
}

function startEdit(doc) {
  state.confirming = null;
  state.editing = { id: doc.id, draft: doc.content };
  renderMessages(false);
}

function cancelEdit() {
  state.editing = null;
  renderMessages(false);
}

async function saveEdit() {
  const ed = state.editing;
  if (!ed) return;
  const doc = state.messages.get(ed.id);
  const content = ed.draft.trim();
  if (!doc || !content || content === doc.content) {
    cancelEdit();
    return;
  }
  try {
    const { doc: saved } = await api('PATCH', `/messages/${ed.id}?depth=0`, { content });
    if (state.editing === ed) state.editing = null;
    upsert(normalize(saved));
  } catch (e) {
    ed.error = `Not saved: ${e.message}`;
    renderMessages(false);
  }
}

function actionButton(label, onClick, testid) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'act';
  b.textContent = label;
  b.dataset.testid = testid;
  b.setAttribute('aria-label', `${label} message`);
  b.addEventListener('click', onClick);
  return b;
}

async function deleteMessage(doc) {
  state.confirming = null;
  try {
    await api('DELETE', `/messages/${doc.id}`);
    remove(doc.id);
  } catch (e) {
    renderMessages(false);
    alert(`Not deleted: ${e.message}`);
  }
}

// ---- sending ------------------------------------------------------------

let tempCounter = 0;

async function send(content) {
  const peer = state.peer;
  const key = `tmp-${++tempCounter}`;
  const now = new Date().toISOString();
  const doc = { sender: state.me.id, receiver: peer, content, createdAt: now, timestamp: now };
  state.pending.set(key, { doc });
  renderMessages();
  try {
    const { doc: saved } = await api('POST', '/messages?depth=0', { sender: state.me.id, receiver: peer, content });
    const wasPending = state.pending.delete(key);
    // the stream may have brought it first: then it is there already
    if (wasPending || !state.messages.has(saved.id)) upsert(normalize(saved));
    else renderMessages();
  } catch (e) {
    state.pending.delete(key);
    renderMessages();
    alert(`Not sent: ${e.message}`);
  }
}

$('composer').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const ta = $('text');
  const content = ta.value.trim();
  if (!content || !state.peer) return;
  ta.value = '';
  send(content);
});

$('text').addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
    ev.preventDefault();
    $('composer').requestSubmit();
  }
});

// ---- the live stream ------------------------------------------------------

// The badge shows only while a stream is meant to be open.
function setConn(s) {
  const el = $('conn');
  el.hidden = false;
  el.dataset.state = s;
  el.textContent = s;
}

// The stream's address: the page's own, or the one a
// <meta name="payloadchat-stream" content="https://host:8443/api/messages/sse">
// names (a virtual host on HTTP/1.1, where the event MPM holds no thread
// per stream, while the page and the API use HTTP/2; see README).
const STREAM = document.querySelector('meta[name="payloadchat-stream"]')?.content
  || `${API}/messages/sse`;

function streamUrl() {
  const me = state.me.id;
  const params = { 'where[or][0][sender][equals]': me, 'where[or][1][receiver][equals]': me };
  // A fresh EventSource cannot send Last-Event-ID: resume with since=.
  if (state.lastEventId) params.since = state.lastEventId;
  return `${STREAM}?${qs(params)}`;
}

function connect() {
  clearTimeout(state.reconnectTimer);
  state.source?.close();
  // credentials: the login cookie also goes to a stream on another port
  const es = new EventSource(streamUrl(), { withCredentials: true });
  state.source = es;
  setConn('reconnecting');
  es.onopen = () => setConn('live');
  es.onerror = () => {
    if (es.readyState === EventSource.CLOSED) {
      // the browser gave up (e.g. a 5xx): try again ourselves
      setConn(navigator.onLine ? 'reconnecting' : 'offline');
      state.reconnectTimer = setTimeout(connect, 2000);
    } else {
      setConn(navigator.onLine ? 'reconnecting' : 'offline');
    }
  };
  es.addEventListener('message', (ev) => {
    if (ev.lastEventId) state.lastEventId = ev.lastEventId;
    for (const raw of JSON.parse(ev.data)) {
      remember(raw.sender);
      remember(raw.receiver);
      arrived(normalize(raw));
    }
  });
  es.addEventListener('delete', (ev) => {
    if (ev.lastEventId) state.lastEventId = ev.lastEventId;
    for (const { id } of JSON.parse(ev.data)) remove(id);
  });
  es.addEventListener('ping', () => {
    if (es.readyState === EventSource.OPEN) setConn('live');
  });
}

window.addEventListener('offline', () => setConn('offline'));
window.addEventListener('online', () => {
  if (state.me && (!state.source || state.source.readyState === EventSource.CLOSED)) connect();
});

// The stream may bring our own message before its POST answers: it takes
// the place of the pending copy at once.
function settlePending(doc) {
  for (const [key, p] of state.pending) {
    if (p.doc.receiver === doc.receiver && p.doc.content === doc.content) {
      state.pending.delete(key);
      return;
    }
  }
}

// A message from the stream (new, edited, or replayed after a reload): it
// counts as unread only above the peer's mark, so a replay counts nothing.
function arrived(doc) {
  const isNew = !state.messages.has(doc.id);
  if (isNew && doc.sender === state.me.id) settlePending(doc);
  upsert(doc);
  if (doc.sender !== state.me.id) {
    const peer = doc.sender;
    const r = readOf(peer);
    if (doc.id > r.counted) {
      const visible = state.peer === peer && !document.hidden
        && document.body.classList.contains('in-conversation');
      state.read.set(peer, { counted: doc.id, n: visible ? 0 : r.n + 1 });
      saveRead();
    }
  }
  const peer = doc.sender === state.me.id ? doc.receiver : doc.sender;
  if (!state.people.has(peer)) loadPeople().catch(() => {}); else renderPeople();
}

function upsert(doc) {
  state.messages.set(doc.id, doc);
  talkedWith(doc);
  if (state.peer && inConversation(doc, state.peer)) renderMessages(false);
}

function remove(id) {
  if (state.messages.delete(Number(id))) renderMessages(false);
}

document.addEventListener('visibilitychange', () => {
  if (document.hidden || !state.me) return;
  if (state.peer) {
    markRead(state.peer, lastIdWith(state.peer));
    renderPeople();
  }
  refreshPeople();
});

// People who signed up since the page loaded: the list is fetched again on
// focus, on a message from someone unknown (see arrived), and every 30 s
// while the page is visible.
let lastRefresh = 0;
function refreshPeople() {
  if (!state.me || Date.now() - lastRefresh < 2000) return;
  lastRefresh = Date.now();
  loadPeople().catch(() => { /* the next one will do */ });
  if (state.search) searchPeople(state.search).catch(() => {});
}
window.addEventListener('focus', refreshPeople);
setInterval(() => { if (!document.hidden) refreshPeople(); }, 30000);

// Escape leaves the inline delete confirm.
document.addEventListener('keydown', (ev) => {
  if (ev.key === 'Escape' && state.confirming) {
    state.confirming = null;
    renderMessages(false);
  }
});

start().catch((e) => {
  setConn('offline');
  $('auth').hidden = false;
  $('auth-error').textContent = `Cannot reach the server: ${e.message}`;
});
