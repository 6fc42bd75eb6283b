// Payload Chat web client: plain ES module, no build step.  Talks to the
// REST API at /api and follows one EventSource on /api/messages/sse that
// carries the signed-in user's messages, presence, typing and read events.
// Every text from the server is rendered with textContent, never as HTML.
const API = '/api';
const PAGE = 50;           // messages per history page
const CONV_PAGE = 20;      // conversations per page
const FOUND = 20;          // users per email search
const TYPING_EVERY = 2000; // ms between two typing signals while typing
const TITLE = 'Payload Chat';
const $ = (id) => document.getElementById(id);

const state = {
  mode: null,          // 'open' | 'members'
  me: null,            // {id, email}
  signedIn: false,     // a login (cookie): false for a user picked in open mode
  serverLists: false,  // GET /api/conversations answers (a login, and a server that has it)
  people: new Map(),   // id -> {id, email}
  convs: new Map(),    // peer id -> {unread, lastMessage, lastRead, peerLastRead, maxId}
  convPage: 0,         // conversation pages loaded
  convMore: false,     // the server has more pages
  presence: new Map(), // user id -> {online, lastSeen}
  typing: new Map(),   // user id -> timer that ends their "typing…"
  typingSent: new Map(), // peer id -> when we last said we type
  peer: null,          // id of the open conversation
  messages: new Map(), // id -> doc (sender/receiver as ids)
  pending: new Map(),  // temporary key -> {doc, el}
  search: '',          // the people search box's text
  found: null,         // ids the search found (null: no search)
  msgSearch: null,     // {text, docs} of the search within the conversation
  editing: null,       // {id, draft} of the message edited in place
  confirming: null,    // id of the message whose delete waits for a confirm
  source: null,
  opened: false,       // the stream has been open once (a later open is a reconnect)
  held: null,          // stream events waiting for the first conversations
  lastEventId: null,
  reconnectTimer: null,
  oldestLoaded: new Map(), // peer id -> createdAt of the oldest loaded
  hasOlder: new Map(),     // peer id -> the API has older messages
};

// ---- the API --------------------------------------------------------------

// keepalive: the request outlives the page (a receipt sent just before a
// reload or a closed tab still arrives)
async function api(method, path, body, keepalive = false) {
  const res = await fetch(API + path, {
    method,
    credentials: 'same-origin',
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
    keepalive,
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

const emailOf = (id) => state.people.get(id)?.email ?? `user ${id}`;

// Users whose email contains text (case-insensitive), A-Z.
async function findUsers(text, limit = FOUND) {
  const params = { limit, sort: 'email', depth: 0 };
  if (text) params['where[email][contains]'] = text;
  const { docs } = await api('GET', '/users?' + qs(params));
  docs.forEach(remember);
  return docs;
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
  let me;
  [state.mode, me] = await Promise.all([detectMode(),
    api('GET', '/users/me').then((d) => d.user, () => null /* signed out */)]);
  if (me) {
    enter(me, true);
    return;
  }
  if (state.mode === 'open') {
    const saved = Number(localStorage.getItem('pchat.me'));
    if (saved) {
      try { me = await api('GET', `/users/${saved}?depth=0`); } catch { /* gone */ }
    }
  }
  if (me) enter(me, false); else showAuth();
}

function showAuth(message = '') {
  $('chat').hidden = true;
  $('auth').hidden = false;
  $('logout').hidden = true;
  $('notify').hidden = true;
  $('conn').hidden = true;   // no stream is meant to be open here
  $('whoami').textContent = '';
  $('auth-error').textContent = message;
  $('pick').hidden = state.mode !== 'open';
  document.title = TITLE;
  if (state.mode === 'open') fillPickList('').catch(() => {});
}

// Open mode: the first users A-Z, or those the search box finds; never the
// whole table.
let pickSeq = 0;
async function fillPickList(text) {
  const seq = ++pickSeq;
  const docs = await findUsers(text.trim());
  if (seq !== pickSeq) return;
  const list = $('pick-list');
  list.replaceChildren();
  for (const u of docs) {
    const li = document.createElement('li');
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = u.email;
    b.dataset.testid = 'pick-user';
    b.addEventListener('click', () => enter(u, false));
    li.append(b);
    list.append(li);
  }
}

$('pick-search').addEventListener('input', debounced(200, (ev) => fillPickList(ev.target.value)));

function debounced(ms, fn) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => Promise.resolve(fn(...args)).catch(() => {}), ms);
  };
}

async function login(email, password) {
  const data = await api('POST', '/users/login', { email, password });
  enter(data.user, true);
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
  state.opened = false;
  state.held = null;
  state.lastEventId = null;
  state.convPage = 0;
  state.convMore = false;
  state.search = '';
  state.found = null;
  $('people-search').value = '';
  state.me = null;
  state.signedIn = false;
  state.peer = null;
  state.msgSearch = null;
  for (const m of [state.messages, state.convs, state.presence, state.typingSent, state.oldestLoaded, state.hasOlder]) m.clear();
  for (const t of state.typing.values()) clearTimeout(t);
  state.typing.clear();
  document.body.classList.remove('in-conversation');
  showAuth();
});

// ---- the chat ---------------------------------------------------------------

async function enter(user, signedIn) {
  state.me = { id: user.id, email: user.email };
  state.signedIn = signedIn;
  state.serverLists = signedIn;
  localStorage.setItem('pchat.me', String(user.id));
  localStorage.removeItem(`pchat.read.${user.id}`);   // the counts of older versions: the server keeps them now
  $('auth').hidden = true;
  $('chat').hidden = false;
  $('logout').hidden = false;
  $('whoami').textContent = user.email;
  $('peer-name').textContent = 'Pick someone to talk to';
  $('peer-status').textContent = '';
  $('conv-search').hidden = true;
  $('composer').hidden = true;
  renderMessages();
  showNotifyButton();
  // The stream opens at once (others see me online), but its events wait
  // for the conversations: the backlog it replays is then known, not unread.
  state.held = [];
  connect();
  try { await loadConversations(1); } catch { /* the stream and a refresh will do */ }
  const held = state.held || [];
  state.held = null;
  for (const handle of held) handle();
}

// ---- conversations --------------------------------------------------------
// The people you have talked with, most recent first, from GET
// /api/conversations (20 a page, "More" for the next), with the last
// message, the unread count and both read positions, kept by the server so
// every device agrees.  A user picked in open mode has no login (and a
// server older than the endpoint has none): the list then comes from the
// last 200 messages, and unread counts only from what arrives while the
// page is open.

function convOf(peer) {
  let c = state.convs.get(peer);
  if (!c) {
    // counted: ids of messages counted unread here, from the stream
    c = { unread: 0, counted: [], lastMessage: null, lastRead: null, peerLastRead: null, maxId: 0 };
    state.convs.set(peer, c);
  }
  return c;
}

// A message of the conversation with peer: the latest shown in the list.
function noteMessage(peer, doc) {
  const c = convOf(peer);
  if (!c.lastMessage || doc.id >= c.lastMessage.id) c.lastMessage = doc;
  c.maxId = Math.max(c.maxId, doc.id);
  return c;
}

async function loadConversations(page) {
  if (!state.me) return;
  if (!state.serverLists) {
    await loadConversationsFromMessages();
    return;
  }
  let data;
  try {
    data = await api('GET', '/conversations?' + qs({ limit: CONV_PAGE, page }));
  } catch (e) {
    if (e.status !== 404) throw e;
    state.serverLists = false;   // a server without it: as for a picked user
    await loadConversationsFromMessages();
    return;
  }
  for (const d of data.docs) {
    remember(d.peer);
    const peer = idOf(d.peer);
    const c = convOf(peer);
    // the server's count, plus what the stream brought after its answer
    const last = d.lastMessage?.id || 0;
    if (d.lastMessage) noteMessage(peer, normalize(d.lastMessage));
    c.counted = c.counted.filter((id) => id > last);
    c.unread = (d.unread || 0) + c.counted.length;
    c.lastRead = Math.max(c.lastRead || 0, d.lastRead || 0) || null;
    c.peerLastRead = Math.max(c.peerLastRead || 0, d.peerLastRead || 0) || null;
  }
  if (page >= state.convPage) {
    state.convPage = page;
    state.convMore = !!data.hasNextPage;
  }
  renderPeople();
  if (state.peer) renderMessages(false);
  fetchPresence(data.docs.map((d) => idOf(d.peer)));
}

async function loadConversationsFromMessages() {
  const me = state.me.id;
  // depth=1: the people of these messages come with them
  const { docs } = await api('GET', '/messages?' + qs({ 'where[or][0][sender][equals]': me,
    'where[or][1][receiver][equals]': me, sort: '-createdAt', limit: 200, depth: 1 }));
  for (const m of docs) {
    remember(m.sender);
    remember(m.receiver);
    const doc = normalize(m);
    noteMessage(doc.sender === me ? doc.receiver : doc.sender, doc);
  }
  state.convMore = false;
  renderPeople();
  fetchPresence([...state.convs.keys()]);
}

// Page 1 again (the server's counts win), soon and once for a burst.
const refetchConversations = debounced(300, () => loadConversations(1));

$('more').addEventListener('click', () => loadConversations(state.convPage + 1).catch(() => {}));

let searchSeq = 0;

async function searchPeople(text) {
  state.search = text.trim();
  const seq = ++searchSeq;
  if (!state.search) {
    state.found = null;
    renderPeople();
    return;
  }
  const docs = await findUsers(state.search);
  if (seq !== searchSeq) return;   // a newer search is on its way
  state.found = docs.map((u) => u.id).filter((id) => id !== state.me?.id);
  renderPeople();
  fetchPresence(state.found);
}

$('people-search').addEventListener('input', debounced(200, (ev) => searchPeople(ev.target.value)));

const lastAt = (c) => c.lastMessage?.createdAt || '';

// Who is in the list, in order: the search's finds A-Z, or the
// conversations, most recent first (one just started, with no message yet,
// on top).
function peopleShown() {
  if (state.found) return state.found;
  return [...state.convs.entries()]
    .filter(([id]) => id !== state.me.id)
    .sort(([, a], [, b]) => {
      if (!a.lastMessage !== !b.lastMessage) return a.lastMessage ? 1 : -1;
      return lastAt(a) < lastAt(b) ? 1 : lastAt(a) > lastAt(b) ? -1 : 0;
    })
    .map(([id]) => id);
}

function el(tag, className, text, testid) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  if (testid) e.dataset.testid = testid;
  return e;
}

function presenceDot(id) {
  const p = state.presence.get(id);
  const dot = el('span', 'dot', undefined, 'presence');
  dot.dataset.online = p?.online ? 'true' : 'false';
  const says = presenceText(id);
  dot.title = says || 'offline';
  dot.setAttribute('aria-label', says || 'offline');
  return dot;
}

function previewOf(c) {
  const m = c.lastMessage;
  if (!m) return 'New conversation';
  return (m.sender === state.me.id ? 'You: ' : '') + m.content.replace(/\s+/g, ' ');
}

function shortTime(iso) {
  const d = new Date(iso);
  if (dayOf(d) === dayOf(new Date())) return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return d.toLocaleDateString([], { month: 'short', day: 'numeric' });
}

function personItem(id) {
  const c = state.convs.get(id);
  const b = el('button', 'person' + (id === state.peer ? ' active' : ''), undefined, 'person');
  b.type = 'button';
  b.dataset.id = id;
  b.dataset.email = emailOf(id);
  const top = el('span', 'line');
  top.append(presenceDot(id), el('span', 'name', emailOf(id)));
  if (c?.lastMessage) {
    const t = el('time', 'when', shortTime(c.lastMessage.createdAt), 'conv-time');
    t.dateTime = c.lastMessage.createdAt;
    top.append(t);
  }
  const bottom = el('span', 'line');
  const typing = state.typing.has(id);
  bottom.append(typing ? el('span', 'preview typing', 'typing…', 'typing')
    : el('span', 'preview', c ? previewOf(c) : 'Start a conversation', 'preview'));
  const n = c?.unread || 0;
  const badge = el('span', 'badge', n ? String(n) : '', 'unread');
  badge.hidden = !n;
  badge.setAttribute('aria-label', `${n} unread`);
  bottom.append(badge);
  b.append(top, bottom);
  if (id === state.peer) b.setAttribute('aria-current', 'true');
  b.addEventListener('click', () => {
    if (state.found) {
      $('people-search').value = '';
      searchPeople('');
    }
    openConversation(id);
  });
  const li = document.createElement('li');
  li.append(b);
  return li;
}

function renderPeople() {
  if (!state.me) return;
  const shown = peopleShown();
  $('people').replaceChildren(...shown.map(personItem));
  $('people-empty').hidden = shown.length > 0;
  $('people-empty').textContent = state.found ? 'Nobody found' : 'No conversation yet: find someone by email';
  $('more').hidden = !!state.found || !state.convMore;
  renderPeerStatus();
  updateTitle();
}

// ---- unread total in the title, notifications ---------------------------

function updateTitle() {
  let total = 0;
  for (const c of state.convs.values()) total += c.unread || 0;
  document.title = total ? `(${total}) ${TITLE}` : TITLE;
}

const canNotify = () => typeof Notification === 'function';

// The permission is asked from a click, as browsers require.
function showNotifyButton() {
  $('notify').hidden = !canNotify() || Notification.permission !== 'default';
}

$('notify').addEventListener('click', async () => {
  try { await Notification.requestPermission(); } catch { /* refused */ }
  showNotifyButton();
});

// A new message while the tab is hidden; clicking it opens the conversation.
function notify(doc) {
  if (!document.hidden || !canNotify() || Notification.permission !== 'granted') return;
  try {
    const n = new Notification(emailOf(doc.sender), {
      body: doc.content.slice(0, 200), tag: `pchat-${doc.sender}`, icon: 'favicon.svg' });
    n.onclick = () => {
      window.focus();
      openConversation(doc.sender);
      n.close();
    };
  } catch { /* not allowed here */ }
}

// ---- presence ---------------------------------------------------------------
// GET /api/presence for the people shown, then `event: presence` on the
// stream.

async function fetchPresence(ids) {
  const want = [...new Set(ids)].filter((id) => id !== state.me?.id).slice(0, 500);
  if (!want.length) return;
  try {
    const { docs } = await api('GET', '/presence?' + qs({ users: want.join(',') }));
    for (const p of docs) setPresence(p, false);
    renderPeople();
  } catch { /* shown as unknown; the stream's events still come */ }
}

function setPresence(p, render = true) {
  state.presence.set(Number(p.user), { online: !!p.online, lastSeen: p.lastSeen || null });
  if (render) renderPeople();
}

function agoText(iso) {
  const d = new Date(iso);
  const s = (Date.now() - d.getTime()) / 1000;
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (dayOf(d) === dayOf(new Date())) return `today at ${d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}`;
  return d.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
}

function presenceText(id) {
  const p = state.presence.get(id);
  if (!p) return '';
  if (p.online) return 'online';
  return p.lastSeen ? `last seen ${agoText(p.lastSeen)}` : 'offline';
}

function renderPeerStatus() {
  const s = $('peer-status');
  const id = state.peer;
  if (!id) {
    s.textContent = '';
    return;
  }
  const typing = state.typing.has(id);
  s.textContent = typing ? 'typing…' : presenceText(id);
  s.dataset.state = typing ? 'typing' : state.presence.get(id)?.online ? 'online' : 'offline';
}

// ---- typing -----------------------------------------------------------------

$('text').addEventListener('input', () => {
  const peer = state.peer;
  if (!state.signedIn || !peer || !$('text').value.trim()) return;
  const now = Date.now();
  if (now - (state.typingSent.get(peer) || 0) < TYPING_EVERY) return;
  state.typingSent.set(peer, now);
  api('POST', '/typing', { to: peer }).catch(() => { /* 429 or gone: the next keystroke */ });
});

function typingFrom(from, ms) {
  clearTimeout(state.typing.get(from));
  state.typing.set(from, setTimeout(() => stopTyping(from), ms));
  renderPeople();
}

function stopTyping(from) {
  if (!state.typing.has(from)) return;
  clearTimeout(state.typing.get(from));
  state.typing.delete(from);
  renderPeople();
}

// ---- read receipts ------------------------------------------------------------

// The conversation with peer is in front of the user: open, shown (not the
// list at phone width) and the tab visible.
const onScreen = (peer) => state.peer === peer && !document.hidden
  && document.body.classList.contains('in-conversation');

function newestFrom(peer) {
  let max = 0;
  for (const d of state.messages.values()) if (d.sender === peer && d.receiver === state.me.id && d.id > max) max = d.id;
  const last = state.convs.get(peer)?.lastMessage;
  if (last && last.sender === peer && last.id > max) max = last.id;
  return max;
}

// Tells the server (and so the peer and my other devices) how far I read.
function markRead(peer) {
  if (!onScreen(peer)) return;
  const c = convOf(peer);
  const newest = newestFrom(peer);
  const before = c.unread;
  c.unread = 0;
  c.counted = [];
  if (before) renderPeople();
  if (!state.signedIn || !newest || (c.lastRead && newest <= c.lastRead)) return;
  c.lastRead = newest;
  api('POST', '/receipts', { peer, message: newest }, true).catch(() => { c.lastRead = null; });
}

// A read event: mine from another device (its counts win: fetch them), or
// the peer's (my messages up to there are "Seen").
function readEvent(r) {
  const me = state.me.id;
  if (r.user === me) {
    const c = convOf(r.peer);
    c.lastRead = Math.max(c.lastRead || 0, r.message);
    c.counted = c.counted.filter((id) => id > r.message);
    if (r.message >= newestFrom(r.peer)) c.unread = 0;
    renderPeople();
    refetchConversations();
  } else if (r.peer === me) {
    const c = convOf(r.user);
    c.peerLastRead = Math.max(c.peerLastRead || 0, r.message);
    if (state.peer === r.user) renderMessages(false);
  }
}

// ---- the conversation -------------------------------------------------------

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
  convOf(peer);
  clearMessageSearch();
  document.body.classList.add('in-conversation');
  $('peer-name').textContent = emailOf(peer);
  $('composer').hidden = false;
  $('conv-search').hidden = false;
  renderPeople();
  renderMessages();
  if (!state.presence.has(peer)) fetchPresence([peer]);
  await loadPage(peer);
  markRead(peer);
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
    noteMessage(peer, doc);
  }
  if (docs.length) state.oldestLoaded.set(peer, docs[docs.length - 1].createdAt);
  state.hasOlder.set(peer, hasNextPage);
  if (state.peer !== peer) return;
  renderMessages(!oldest);
}

$('older').addEventListener('click', () => state.peer && loadPage(state.peer).catch(() => {}));
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
  renderSearchStatus();
  if (!state.peer) return;
  const searching = state.msgSearch?.docs;
  const docs = (searching || [...state.messages.values()].filter((d) => inConversation(d, state.peer)))
    .slice().sort(byTime);
  const items = docs.map((d) => [d, false]);
  if (!searching) {
    for (const p of state.pending.values()) {
      if (p.doc.receiver === state.peer) items.push([p.doc, true]);
    }
  }
  const seen = searching ? 0 : seenMessage(docs);
  let day = null;
  for (const [d, pending] of items) {
    const when = shownAt(d);
    if (dayOf(when) !== day) {
      day = dayOf(when);
      list.append(daySeparator(when));
    }
    list.append(messageItem(d, pending, d.id === seen));
  }
  const editor = list.querySelector('textarea.edit');
  if (editor && document.activeElement !== editor) {
    editor.focus();
    editor.setSelectionRange(editor.value.length, editor.value.length);
  }
  $('older').hidden = !!searching || !state.hasOlder.get(state.peer);
  if (stickToBottom || atBottom) box.scrollTop = box.scrollHeight;
}

// My last message the peer has read (their receipt is at or after it).
function seenMessage(docs) {
  const upTo = state.convs.get(state.peer)?.peerLastRead;
  if (!upTo) return 0;
  let seen = 0;
  for (const d of docs) if (d.sender === state.me.id && d.id <= upTo && d.id > seen) seen = d.id;
  return seen;
}

function messageItem(doc, pending, seen) {
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
  if (seen) li.append(el('span', 'seen', 'Seen', 'seen'));
  if (!mine || pending || state.msgSearch) return li;
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
  // the message ends the peer's "typing…": a new draft may say so again a
  // second later (the server takes one signal a second)
  state.typingSent.set(peer, Date.now() - TYPING_EVERY + 1000);
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

// ---- search within the conversation ---------------------------------------
// The API's `contains` on content, within this conversation (50 newest
// matches); the list shows the matches until the box is cleared.

let msgSearchSeq = 0;

async function searchMessages(text) {
  const peer = state.peer;
  const seq = ++msgSearchSeq;
  if (!peer || !text.trim()) {
    clearMessageSearch();
    renderMessages();
    return;
  }
  const params = { ...pairWhere(peer), 'where[and][0][content][contains]': text.trim(),
    sort: '-createdAt', limit: PAGE, depth: 0 };
  const { docs, totalDocs } = await api('GET', '/messages?' + qs(params));
  if (seq !== msgSearchSeq || state.peer !== peer) return;
  state.msgSearch = { text: text.trim(), docs: docs.map(normalize), total: totalDocs ?? docs.length };
  renderMessages();
}

function clearMessageSearch() {
  ++msgSearchSeq;
  state.msgSearch = null;
  $('conv-search').value = '';
}

function renderSearchStatus() {
  const s = $('search-status');
  const f = state.msgSearch;
  s.hidden = !f;
  if (!f) return;
  const n = f.total;
  s.textContent = n ? `${n} message${n === 1 ? '' : 's'} containing “${f.text}”${n > f.docs.length ? ` (newest ${f.docs.length} shown)` : ''}`
    : `No message contains “${f.text}”`;
}

$('conv-search').addEventListener('input', debounced(250, (ev) => searchMessages(ev.target.value)));
$('conv-search').addEventListener('keydown', (ev) => {
  if (ev.key === 'Escape') {
    clearMessageSearch();
    renderMessages();
  }
});

// ---- the live stream ------------------------------------------------------

// The badge shows only while a stream is meant to be open.
function setConn(s) {
  const e = $('conn');
  e.hidden = false;
  e.dataset.state = s;
  e.textContent = s;
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

// Each event's JSON, or nothing for a frame that does not parse.  Those
// about messages and reads are held while the page loads its conversations
// (see enter); presence and typing are not about them.
const on = (es, name, fn, hold = true) => es.addEventListener(name, (ev) => {
  let data;
  try { data = JSON.parse(ev.data); } catch { return; }
  if (es !== state.source) return;
  if (hold && state.held) state.held.push(() => fn(data, ev));
  else fn(data, ev);
});

function connect() {
  clearTimeout(state.reconnectTimer);
  state.source?.close();
  // credentials: the login cookie also goes to a stream on another port
  const es = new EventSource(streamUrl(), { withCredentials: true });
  state.source = es;
  setConn('reconnecting');
  es.onopen = () => {
    setConn('live');
    // presence and counts may have changed while no stream was open
    if (state.opened) refetchConversations();
    state.opened = true;
    fetchPresence([...peopleShown(), state.peer].filter(Boolean));
  };
  es.onerror = () => {
    if (es.readyState === EventSource.CLOSED) {
      // the browser gave up (e.g. a 5xx): try again ourselves
      setConn(navigator.onLine ? 'reconnecting' : 'offline');
      state.reconnectTimer = setTimeout(connect, 2000);
    } else {
      setConn(navigator.onLine ? 'reconnecting' : 'offline');
    }
  };
  on(es, 'message', (docs, ev) => {
    if (ev.lastEventId) state.lastEventId = ev.lastEventId;
    for (const raw of docs) {
      remember(raw.sender);
      remember(raw.receiver);
      arrived(normalize(raw));
    }
  });
  on(es, 'delete', (docs, ev) => {
    if (ev.lastEventId) state.lastEventId = ev.lastEventId;
    for (const { id } of docs) remove(id);
    refetchConversations();   // an unread message may be gone
  });
  on(es, 'presence', (p) => setPresence(p), false);
  on(es, 'typing', (t) => {
    if (t.to === state.me.id && t.from !== state.me.id) typingFrom(t.from, Number(t.expiresIn) || 5000);
  }, false);
  on(es, 'read', (r) => readEvent(r));
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

// A message from the stream: new, edited, or replayed after a (re)connect.
// Only one above the highest id known in its conversation is new; the
// stream's events wait for the first page of conversations, and the
// backlog (20 messages) falls within it, so a replay counts nothing.  A
// new one counts here at once; for a conversation not loaded yet the
// server's count (older unread messages) is fetched too, and added to.
function arrived(doc) {
  const me = state.me.id;
  const isNew = !state.messages.has(doc.id);
  if (isNew && doc.sender === me) settlePending(doc);
  const peer = doc.sender === me ? doc.receiver : doc.sender;
  const known = state.convs.get(peer);
  const fresh = doc.id > (known?.maxId || 0);
  upsert(doc);
  if (doc.sender !== me) {
    stopTyping(peer);
    if (fresh && onScreen(peer)) markRead(peer);
    else if (fresh) {
      const c = state.convs.get(peer);
      c.unread += 1;
      c.counted.push(doc.id);
      // a conversation not loaded yet may have older unread messages
      if (!known?.lastMessage && state.serverLists) refetchConversations();
      notify(doc);
    }
  }
  renderPeople();
}

function upsert(doc) {
  state.messages.set(doc.id, doc);
  const peer = doc.sender === state.me.id ? doc.receiver : doc.sender;
  noteMessage(peer, doc);
  if (state.peer && inConversation(doc, state.peer)) renderMessages(false);
}

function remove(id) {
  if (state.messages.delete(Number(id))) renderMessages(false);
}

document.addEventListener('visibilitychange', () => {
  if (document.hidden || !state.me) return;
  if (state.peer) markRead(state.peer);
  refresh();
});

// On focus and every 30 s while visible: the conversations' first page
// again, and the search (people who signed up since the page loaded).
let lastRefresh = 0;
function refresh() {
  if (!state.me || Date.now() - lastRefresh < 2000) return;
  lastRefresh = Date.now();
  loadConversations(1).catch(() => { /* the next one will do */ });
  if (state.search) searchPeople(state.search).catch(() => {});
}
window.addEventListener('focus', refresh);
setInterval(() => {
  if (document.hidden) return;
  refresh();
  renderPeerStatus();   // "last seen 3 min ago" moves on
}, 30000);

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
