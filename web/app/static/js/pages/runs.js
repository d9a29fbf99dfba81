// Arenas and runs (operators, admins): each arena with its last run, its
// schedule and next start, and every run with its errors by kind.
import {h, table} from '../dom.js';
import {get, ApiError} from '../api.js';
import {t, fmtDate, fmtNum} from '../i18n.js';

export async function render(main, ctx) {
  const [runs, scheds] = await Promise.all([get('/api/runs'),
    get('/api/schedules').catch((e) => (e instanceof ApiError && e.status === 501 ? [] : Promise.reject(e)))]);
  if (!ctx.isCurrent()) return;
  const sched = new Map(scheds.map((x) => [x.arena, x]));
  main.append(h('h1', {}, t('runs.title')), h('p', {}, t('runs.intro')));
  const last = new Map();
  for (const r of runs) {
    const prev = last.get(r.arena);
    if (!prev || r.started > prev.started) last.set(r.arena, r);
  }
  const errs = (r) => Object.entries(r.errors || {}).map(([k, v]) => `${k}: ${v}`).join(', ') || '0';
  const status = (st) => (t('runs.st.' + st) === 'runs.st.' + st ? st : t('runs.st.' + st));
  const arenas = [...new Set([...last.keys(), ...sched.keys()])].sort();
  main.append(h('h2', {}, t('runs.arenas')), table(null,
    [t('advert.arena'), t('runs.status'), t('runs.started'), t('runs.pages'), t('runs.ads'), t('runs.errors'), t('runs.schedule'), t('runs.next')],
    arenas.map((a) => {
      const r = last.get(a);
      const sc = sched.get(a);
      return [a, r ? status(r.status) : '—', r ? fmtDate(r.started, true) : '—', r ? r.pages : '—', r ? r.ads : '—', r ? errs(r) : '—',
        sc ? h('span', {class: 'mono'}, sc.spec) : t('runs.unscheduled'), sc && sc.next ? fmtDate(sc.next, true) + ' UTC' : '—'];
    })));
  main.append(h('h2', {}, t('runs.all')), table(null,
    [t('runs.id'), t('advert.arena'), t('runs.started'), t('runs.ended'), t('runs.status'), t('runs.pages'), t('runs.ads'), t('runs.errors')],
    [...runs].sort((a, b) => String(b.started).localeCompare(String(a.started))).map((r) =>
      [h('span', {class: 'mono'}, r.id), r.arena, fmtDate(r.started, true), r.ended ? fmtDate(r.ended, true) : '—', status(r.status), r.pages, r.ads, errs(r)])));
  if (runs.length === 0) main.append(h('p', {}, t('runs.none')));
  main.append(h('p', {class: 'meta'}, t('runs.cli', fmtNum(runs.length))));
}
