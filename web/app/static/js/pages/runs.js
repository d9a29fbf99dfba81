// Arenas and runs (operators, admins): each arena with its last run, its
// schedule and next start, and every run with its errors by kind and, for
// one run, its failed pages. When the server hosts the pipeline (serve
// --pipeline), operators start a crawl here and follow it live
// (server-sent events).
import {h, table, announce} from '../dom.js';
import {api, get, qs, ApiError} from '../api.js';
import {t, fmtDate, fmtNum} from '../i18n.js';

// sources are the event streams of the page shown: closed when another
// page is rendered.
let sources = [];

function closeSources() {
  for (const s of sources) s.close();
  sources = [];
}

const orNone = (e) => (e instanceof ApiError && e.status === 501 ? null : Promise.reject(e));
const errs = (r) => Object.entries(r.errors || {}).map(([k, v]) => `${k}: ${v}`).join(', ') || '0';
const errCount = (r) => Object.values(r.errors || {}).reduce((a, b) => a + b, 0);
const status = (st) => (t('runs.st.' + st) === 'runs.st.' + st ? st : t('runs.st.' + st));

export async function render(main, ctx) {
  closeSources();
  const [runs, scheds, crawls] = await Promise.all([get('/api/runs'),
    get('/api/schedules').catch((e) => orNone(e).then(() => [])), get('/api/crawls').catch(orNone)]);
  if (!ctx.isCurrent()) return;
  main.append(h('h1', {}, t('runs.title')), h('p', {}, t('runs.intro')));
  const tables = h('div', {id: 'runs-tables'});
  const refresh = async () => {
    const fresh = await get('/api/runs');
    if (ctx.isCurrent()) tables.replaceChildren(...runTables(fresh, scheds, ctx));
  };
  main.append(crawlSection(crawls, ctx, refresh), tables);
  tables.append(...runTables(runs, scheds, ctx));
  const errorsOf = ctx.params.get('errors');
  if (errorsOf) main.append(await errorList(errorsOf, ctx));
  main.append(h('p', {class: 'meta'}, t(crawls ? 'runs.hosted' : 'runs.cli', fmtNum(runs.length))));
}

// runTables are the arenas' last runs with their schedules, and every run.
function runTables(runs, scheds, ctx) {
  // What changed since a run (the changes page), for the roles that see it.
  const changes = ['operator', 'analyst', 'researcher'].some((r) => ctx.session.roles.includes(r));
  const runID = (r) => (changes && r.ended
    ? h('a', {href: '#/changes' + qs({since: r.id}), class: 'mono', 'aria-label': t('runs.changesSince', r.id)}, r.id)
    : h('span', {class: 'mono'}, r.id));
  const sched = new Map(scheds.map((x) => [x.arena, x]));
  const last = new Map();
  for (const r of runs) {
    const prev = last.get(r.arena);
    if (!prev || r.started > prev.started) last.set(r.arena, r);
  }
  const errCell = (r) => (errCount(r) > 0
    ? h('a', {href: '#/runs' + qs({errors: r.id}), 'aria-label': t('runs.errorsOf', r.id)}, errs(r)) : errs(r));
  const arenas = [...new Set([...last.keys(), ...sched.keys()])].sort();
  const out = [h('h2', {}, t('runs.arenas')), table(null,
    [t('advert.arena'), t('runs.status'), t('runs.started'), t('runs.pages'), t('runs.ads'), t('runs.errors'), t('runs.schedule'), t('runs.next')],
    arenas.map((a) => {
      const r = last.get(a);
      const sc = sched.get(a);
      return [a, r ? status(r.status) : '—', r ? fmtDate(r.started, true) : '—', r ? r.pages : '—', r ? r.ads : '—', r ? errCell(r) : '—',
        sc ? h('span', {class: 'mono'}, sc.spec) : t('runs.unscheduled'), sc && sc.next ? fmtDate(sc.next, true) + ' UTC' : '—'];
    })),
  h('h2', {}, t('runs.all')), table(null,
    [t('runs.id'), t('advert.arena'), t('runs.started'), t('runs.ended'), t('runs.status'), t('runs.pages'), t('runs.ads'), t('runs.errors')],
    [...runs].sort((a, b) => String(b.started).localeCompare(String(a.started))).map((r) =>
      [runID(r), r.arena, fmtDate(r.started, true), r.ended ? fmtDate(r.ended, true) : '—', status(r.status), r.pages, r.ads, errCell(r)]))];
  if (runs.length === 0) out.push(h('p', {}, t('runs.none')));
  return out;
}

// crawlSection is the form to start a crawl (operators) and the crawls
// started since the server started, followed live.
function crawlSection(crawls, ctx, refresh) {
  const sec = h('section', {id: 'crawls', 'aria-labelledby': 'crawls-title'}, h('h2', {id: 'crawls-title'}, t('crawl.title')));
  if (!crawls) return sec.append(h('p', {}, t('crawl.notHosted'))), sec;
  const list = h('div', {id: 'crawl-list'});
  const operator = ctx.session.roles.includes('operator');
  const follow = (c) => {
    const box = crawlBox(c, operator);
    list.prepend(box.el);
    if (!c.finished) watch(c.id, box, ctx, refresh);
  };
  if (operator) {
    const select = h('select', {id: 'crawl-arena', name: 'arena'}, crawls.arenas.map((a) => h('option', {value: a}, a)));
    const msg = h('p', {id: 'crawl-msg', role: 'alert'});
    const form = h('form', {class: 'row', id: 'crawl-form'},
      h('div', {}, h('label', {for: 'crawl-arena'}, t('crawl.arena')), select),
      h('div', {}, h('button', {type: 'submit', id: 'crawl-start'}, t('crawl.start'))));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      msg.textContent = '';
      msg.className = '';
      try {
        const c = await api('POST', '/api/crawls', {arena: select.value});
        if (!ctx.isCurrent()) return;
        follow(c);
        announce(t('crawl.started', c.arena));
      } catch (err) {
        msg.className = 'error';
        msg.textContent = err.status === 409 ? t('crawl.running', select.value) : err.message;
      }
    });
    sec.append(h('p', {}, t('crawl.intro')), form, msg);
  }
  sec.append(h('h3', {}, t('crawl.list')), list);
  if (crawls.crawls.length === 0) list.append(h('p', {class: 'meta', id: 'crawl-none'}, t('crawl.none')));
  for (const c of [...crawls.crawls].reverse()) follow(c);
  return sec;
}

// crawlBox shows one crawl, with a stop button for operators while it
// runs; update(c) redraws it.
function crawlBox(c, operator) {
  const el = h('section', {class: 'crawl', id: 'crawl-' + c.id, 'aria-labelledby': 'crawl-' + c.id + '-title'});
  const st = h('p', {role: 'status', class: 'crawl-status'});
  const facts = h('dl', {class: 'facts'});
  const bar = h('progress', {max: 1, value: 0, 'aria-label': t('crawl.progress', c.arena)});
  const stop = operator ? h('button', {type: 'button', class: 'secondary crawl-stop', 'aria-label': t('crawl.stopNamed', c.arena)}, t('crawl.stop')) : null;
  if (stop) {
    stop.addEventListener('click', async () => {
      stop.disabled = true;
      try {
        await api('POST', '/api/crawls/' + encodeURIComponent(c.id) + '/stop');
        announce(t('crawl.stopping', c.arena));
      } catch (err) {
        st.textContent = err.message;
        st.className = 'crawl-status error';
      }
    });
  }
  el.append(h('h4', {id: 'crawl-' + c.id + '-title'}, c.arena, ' ', h('span', {class: 'mono meta'}, c.id)), st, bar, ...(stop ? [stop] : []), facts);
  let shown = '';
  const update = (c) => {
    document.getElementById('crawl-none')?.remove();
    el.dataset.status = c.status;
    el.dataset.finished = c.finished ? 'true' : 'false';
    el.dataset.pages = c.pages;
    // The live region speaks when the status changes, not at every page.
    const line = t('crawl.status.' + c.status) + (c.error ? ': ' + c.error : '');
    if (stop && c.finished) stop.remove();
    if (line !== shown) st.textContent = shown = line;
    st.className = 'crawl-status' + (c.status === 'failed' ? ' error' : '');
    const done = c.pages + c.queued;
    if (c.finished) bar.setAttribute('value', 1);
    else if (done > 0) bar.setAttribute('value', c.pages / done);
    const row = (k, v) => [h('dt', {}, t(k)), h('dd', {}, v)];
    facts.replaceChildren(
      ...row('crawl.by', c.by),
      ...row('runs.id', c.run ? h('span', {class: 'mono'}, c.run) : '—'),
      ...row('runs.started', fmtDate(c.started, true)),
      ...row('runs.pages', fmtNum(c.pages) + (c.queued ? ' ' + t('crawl.queued', fmtNum(c.queued)) : '')),
      ...row('runs.ads', fmtNum(c.ads)),
      ...row('runs.errors', errCount(c) > 0 && c.run
        ? h('a', {href: '#/runs' + qs({errors: c.run})}, errs(c)) : errs(c)),
      ...row('crawl.stages', c.stages ? t('crawl.stageCounts', fmtNum(c.stages.fingerprinted), fmtNum(c.stages.clustered), fmtNum(c.stages.indexed)) : '—'));
  };
  update(c);
  return {el, update};
}

// watch follows a crawl's event stream until its end event.
function watch(id, box, ctx, refresh) {
  const es = new EventSource('/api/crawls/' + encodeURIComponent(id) + '/events');
  sources.push(es);
  const stillHere = () => {
    if (ctx.isCurrent()) return true;
    es.close();
    return false;
  };
  es.addEventListener('progress', (e) => { if (stillHere()) box.update(JSON.parse(e.data)); });
  es.addEventListener('end', (e) => {
    es.close();
    if (!stillHere()) return;
    const c = JSON.parse(e.data);
    box.update(c);
    announce(t('crawl.finished', c.arena, t('crawl.status.' + c.status)));
    refresh();
  });
}

// errorList shows the failed pages of a run.
async function errorList(run, ctx) {
  const sec = h('section', {id: 'run-errors', 'aria-labelledby': 'run-errors-title'},
    h('h2', {id: 'run-errors-title'}, t('runs.errorsTitle', run)));
  try {
    const res = await get('/api/runs/' + encodeURIComponent(run) + '/errors');
    if (res.errors.length === 0) sec.append(h('p', {}, t('runs.noErrors')));
    else {
      sec.append(table(t('runs.errorsTitle', run), [t('runs.url'), t('runs.kind'), t('runs.depth'), t('runs.error')],
        res.errors.map((e) => [h('span', {class: 'mono url'}, e.url), e.kind, e.depth, e.error])));
    }
  } catch (e) {
    if (e instanceof ApiError && e.status === 403) throw e;
    sec.append(h('p', {class: 'error', role: 'alert'}, e.message));
  }
  return sec;
}
