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
  unread: new Map(),   // peer id -> count
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

async function detectMode() {
  try {
    await api('GET', '/messages?limit=1&depth=0');
    return 'open';
  } catch (e) {
    if (e.status === 401 || e.status === 403) return 'members';
    throw e;
  }
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

$('logout').addEventListener('click', async () => {
  if (state.mode === 'members') {
    try { await api('POST', '/users/logout'); } catch { /* already out */ }
  }
  localStorage.removeItem('pchat.me');
  state.source?.close();
  state.source = null;
  state.me = null;
  state.peer = null;
  state.messages.clear();
  setConn('offline');
  showAuth();
});

// ---- the chat ---------------------------------------------------------------

async function enter(user) {
  state.me = { id: user.id, email: user.email };
  localStorage.setItem('pchat.me', String(user.id));
  state.unread = new Map(JSON.parse(localStorage.getItem(unreadKey()) || '[]'));
  $('auth').hidden = true;
  $('chat').hidden = false;
  $('logout').hidden = false;
  $('whoami').textContent = user.email;
  await loadPeople();
  connect();
}

const unreadKey = () => `pchat.unread.${state.me.id}`;

function saveUnread() {
  localStorage.setItem(unreadKey(), JSON.stringify([...state.unread]));
}

async function loadPeople() {
  const { docs } = await api('GET', '/users?limit=1000&sort=email&depth=0');
  docs.forEach(remember);
  renderPeople();
}

function renderPeople() {
  const list = $('people');
  list.replaceChildren();
  for (const u of [...state.people.values()].sort((a, b) => a.email.localeCompare(b.email))) {
    if (u.id === state.me.id) continue;
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
    const n = state.unread.get(u.id) || 0;
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
  state.unread.delete(peer);
  saveUnread();
  document.body.classList.add('in-conversation');
  $('peer-name').textContent = state.people.get(peer)?.email ?? `user ${peer}`;
  $('composer').hidden = false;
  renderPeople();
  renderMessages();
  await loadPage(peer);
  $('text').focus();
}

// One page of history older than what is loaded, newest first from the API.
async function loadPage(peer) {
  const params = { ...pairWhere(peer), sort: '-createdAt', limit: PAGE, depth: 0 };
  const oldest = state.oldestLoaded.get(peer);
  if (oldest) params['where[and][0][createdAt][less_than]'] = oldest;
  const { docs, hasNextPage } = await api('GET', '/messages?' + qs(params));
  for (const d of docs) state.messages.set(d.id, normalize(d));
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

function renderMessages(stickToBottom = true) {
  const box = $('messages');
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  const list = $('message-list');
  list.replaceChildren();
  if (!state.peer) return;
  const docs = [...state.messages.values()].filter((d) => inConversation(d, state.peer)).sort(byTime);
  for (const d of docs) list.append(messageItem(d, false));
  for (const p of state.pending.values()) {
    if (p.doc.receiver === state.peer) list.append(messageItem(p.doc, true));
  }
  if (stickToBottom || atBottom) box.scrollTop = box.scrollHeight;
}

function messageItem(doc, pending) {
  const mine = doc.sender === state.me.id;
  const li = document.createElement('li');
  li.className = 'msg' + (mine ? ' mine' : '') + (pending ? ' pending' : '');
  li.dataset.testid = 'message';
  if (!pending) li.dataset.id = doc.id;
  const text = document.createElement('p');
  text.className = 'text';
  text.textContent = doc.content;           // text only, never HTML
  const meta = document.createElement('span');
  meta.className = 'meta';
  const when = new Date(doc.timestamp || doc.createdAt);
  const time = document.createElement('time');
  time.dateTime = when.toISOString();
  time.textContent = when.toLocaleString([], { dateStyle: 'short', timeStyle: 'short' });
  meta.append(time);
  if (pending) meta.append(' · sending…');
  if (doc.updatedAt && doc.createdAt && doc.updatedAt !== doc.createdAt && !pending) meta.append(' · edited');
  li.append(text, meta);
  if (mine && !pending) {
    meta.append(' ', actionButton('Edit', () => editMessage(doc)),
      ' ', actionButton('Delete', () => deleteMessage(doc)));
  }
  return li;
}

function actionButton(label, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'act';
  b.textContent = label;
  b.setAttribute('aria-label', `${label} message`);
  b.addEventListener('click', onClick);
  return b;
}

async function editMessage(doc) {
  const content = prompt('Edit message', doc.content);
  if (content === null || !content.trim()) return;
  const { doc: saved } = await api('PATCH', `/messages/${doc.id}?depth=0`, { content });
  upsert(normalize(saved));
}

async function deleteMessage(doc) {
  if (!confirm('Delete this message?')) return;
  await api('DELETE', `/messages/${doc.id}`);
  remove(doc.id);
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

function setConn(s) {
  const el = $('conn');
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

function arrived(doc) {
  const isNew = !state.messages.has(doc.id);
  if (isNew && doc.sender === state.me.id) settlePending(doc);
  upsert(doc);
  if (!isNew || doc.sender === state.me.id) return;
  const peer = doc.sender;
  const visible = state.peer === peer && !document.hidden
    && document.body.classList.contains('in-conversation');
  if (!visible) {
    state.unread.set(peer, (state.unread.get(peer) || 0) + 1);
    saveUnread();
  }
  if (!state.people.has(peer)) loadPeople(); else renderPeople();
}

function upsert(doc) {
  state.messages.set(doc.id, doc);
  if (state.peer && inConversation(doc, state.peer)) renderMessages(false);
}

function remove(id) {
  if (state.messages.delete(Number(id))) renderMessages(false);
}

document.addEventListener('visibilitychange', () => {
  if (!document.hidden && state.peer) {
    state.unread.delete(state.peer);
    saveUnread();
    renderPeople();
  }
});

start().catch((e) => {
  setConn('offline');
  $('auth').hidden = false;
  $('auth-error').textContent = `Cannot reach the server: ${e.message}`;
});
