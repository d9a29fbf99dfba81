// The shell of the app: session, language, menu, and the router from the
// fragment (#/search?q=…) to a page module.
import {h, append, announce} from './dom.js';
import {api, get, setCSRF, ApiError} from './api.js';
import {t, lang, setLang} from './i18n.js';
import * as signin from './pages/signin.js';
import * as search from './pages/search.js';
import * as advert from './pages/advert.js';
import * as person from './pages/person.js';
import * as network from './pages/network.js';
import * as counts from './pages/counts.js';
import * as changes from './pages/changes.js';
import * as patterns from './pages/patterns.js';
import * as runs from './pages/runs.js';
import * as admin from './pages/admin.js';

// pages: route name → module, the roles that see it in the menu.
const pages = {
  search: {mod: search, roles: ['analyst'], menu: 'nav.search'},
  patterns: {mod: patterns, roles: ['analyst'], menu: 'nav.patterns'},
  counts: {mod: counts, roles: ['analyst', 'researcher'], menu: 'nav.counts'},
  runs: {mod: runs, roles: ['operator', 'admin'], menu: 'nav.runs'},
  changes: {mod: changes, roles: ['analyst', 'researcher', 'operator'], menu: 'nav.changes'},
  admin: {mod: admin, roles: ['admin'], menu: 'nav.admin'},
  advert: {mod: advert, roles: ['analyst']},
  person: {mod: person, roles: ['analyst']},
  network: {mod: network, roles: ['analyst']},
};

const state = {session: null};

// route parses the fragment: #/name/arg?query.
function route() {
  const frag = location.hash.startsWith('#/') ? location.hash.slice(2) : '';
  const [path, query] = frag.split('?');
  const parts = path.split('/').map(decodeURIComponent);
  return {name: parts[0] || '', arg: parts.slice(1).join('/'), params: new URLSearchParams(query || '')};
}

// home is the first page the session's roles may open.
function home(session) {
  for (const [name, p] of Object.entries(pages)) {
    if (p.menu && p.roles.some((r) => session.roles.includes(r))) return name;
  }
  return '';
}

export function go(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

function renderShell() {
  document.documentElement.lang = lang();
  document.title = 'adcensus';
  document.getElementById('skip').textContent = t('skip');
  const nav = document.getElementById('nav');
  nav.setAttribute('aria-label', t('nav.label'));
  nav.replaceChildren();
  const who = document.getElementById('who');
  who.replaceChildren();
  const s = state.session;
  const current = route().name;
  if (s) {
    const items = Object.entries(pages)
      .filter(([, p]) => p.menu && p.roles.some((r) => s.roles.includes(r)))
      .map(([name, p]) => h('li', {}, h('a', {href: '#/' + name, 'aria-current': name === current ? 'page' : null}, t(p.menu))));
    nav.append(h('ul', {}, items));
    append(who, [
      h('span', {}, t('signedInAs', s.user, s.roles.map((r) => t('role.' + r)).join(', '))),
      h('button', {type: 'button', class: 'linkish', id: 'signout', onclick: signOut}, t('signOut')),
    ]);
  }
  const lb = document.getElementById('lang');
  const other = lang() === 'sv' ? 'en' : 'sv';
  lb.textContent = other === 'en' ? 'English' : 'Svenska';
  lb.setAttribute('lang', other);
  lb.setAttribute('aria-label', other === 'en' ? 'Switch to English' : 'Byt till svenska');
}

async function signOut() {
  try { await api('DELETE', '/api/session'); } catch (e) { /* the session may be gone already */ }
  state.session = null;
  setCSRF('');
  go('#/signin');
}

// loadSession asks the API who is signed in; null when nobody.
async function loadSession() {
  try {
    const s = await get('/api/session');
    setCSRF(s.csrf_token);
    return s;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return null;
    throw e;
  }
}

// forbidden is the page shown for a 403: the API refused (and audited).
export function forbidden(main, message) {
  main.replaceChildren(
    h('h1', {id: 'forbidden', 'data-status': '403'}, t('forbidden.title')),
    h('div', {class: 'forbidden'}, h('p', {}, t('forbidden.text')), message ? h('p', {class: 'meta'}, message) : null));
}

// failed shows an API error on the page: 403 as the forbidden page, 401 by
// signing in again.
export function failed(main, err) {
  if (err instanceof ApiError && err.status === 403) return forbidden(main, err.message);
  if (err instanceof ApiError && err.status === 401) {
    state.session = null;
    return go('#/signin');
  }
  const status = err instanceof ApiError ? err.status : 0;
  main.replaceChildren(h('h1', {}, t('error.title')),
    h('p', {class: 'error', role: 'alert', 'data-status': String(status)}, (status ? status + ': ' : '') + err.message));
}

let renderSeq = 0;

async function render() {
  const seq = ++renderSeq;
  const main = document.getElementById('main');
  const r = route();
  if (state.session === undefined || state.session === null && r.name !== 'signin') {
    try {
      state.session = await loadSession();
    } catch (e) {
      renderShell();
      return failed(main, e);
    }
  }
  if (seq !== renderSeq) return;
  const s = state.session;
  if (!s && r.name !== 'signin') return go('#/signin');
  if (s && (r.name === 'signin' || r.name === '')) {
    const first = home(s);
    if (first) return go('#/' + first);
  }
  renderShell();
  const ctx = {
    params: r.params, arg: r.arg, session: s, go, failed: (e) => failed(main, e),
    signedIn: (sess) => { state.session = sess; setCSRF(sess.csrf_token); go('#/' + (home(sess) || 'signin')); },
    isCurrent: () => seq === renderSeq,
  };
  main.replaceChildren();
  try {
    if (r.name === 'signin') await signin.render(main, ctx);
    else if (pages[r.name]) await pages[r.name].mod.render(main, ctx);
    else main.append(h('h1', {}, t('notFound.title')), h('p', {}, t('notFound.text')));
  } catch (e) {
    if (seq === renderSeq) failed(main, e);
  }
  if (seq !== renderSeq) return;
  const h1 = main.querySelector('h1');
  if (h1) {
    document.title = h1.textContent + ' – adcensus';
    announce(h1.textContent);
  }
}

function start() {
  document.getElementById('lang').addEventListener('click', () => {
    setLang(lang() === 'sv' ? 'en' : 'sv');
    render();
  });
  document.getElementById('skip').addEventListener('click', (e) => {
    e.preventDefault();
    document.getElementById('main').focus();
  });
  window.addEventListener('hashchange', () => {
    if (location.hash === '' || location.hash.startsWith('#/')) {
      render().then(() => document.getElementById('main').focus({preventScroll: true}));
    }
  });
  state.session = undefined;
  render();
}

start();
