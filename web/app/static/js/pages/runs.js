// Arenas and runs (operators, admins): each arena with its last run, and
// every run with its errors by kind.
import {h, table} from '../dom.js';
import {get} from '../api.js';
import {t, fmtDate, fmtNum} from '../i18n.js';

export async function render(main, ctx) {
  const runs = await get('/api/runs');
  if (!ctx.isCurrent()) return;
  main.append(h('h1', {}, t('runs.title')), h('p', {}, t('runs.intro')));
  const last = new Map();
  for (const r of runs) {
    const prev = last.get(r.arena);
    if (!prev || r.started > prev.started) last.set(r.arena, r);
  }
  const errs = (r) => Object.entries(r.errors || {}).map(([k, v]) => `${k}: ${v}`).join(', ') || '0';
  main.append(h('h2', {}, t('runs.arenas')), table(null,
    [t('advert.arena'), t('runs.status'), t('runs.started'), t('runs.pages'), t('runs.ads'), t('runs.errors')],
    [...last.values()].sort((a, b) => a.arena.localeCompare(b.arena)).map((r) =>
      [r.arena, t('runs.st.' + r.status) === 'runs.st.' + r.status ? r.status : t('runs.st.' + r.status), fmtDate(r.started, true), r.pages, r.ads, errs(r)])));
  main.append(h('h2', {}, t('runs.all')), table(null,
    [t('runs.id'), t('advert.arena'), t('runs.started'), t('runs.ended'), t('runs.status'), t('runs.pages'), t('runs.ads'), t('runs.errors')],
    [...runs].sort((a, b) => String(b.started).localeCompare(String(a.started))).map((r) =>
      [h('span', {class: 'mono'}, r.id), r.arena, fmtDate(r.started, true), r.ended ? fmtDate(r.ended, true) : '—', r.status, r.pages, r.ads, errs(r)])));
  if (runs.length === 0) main.append(h('p', {}, t('runs.none')));
  main.append(h('p', {class: 'meta'}, t('runs.cli', fmtNum(runs.length))));
}
