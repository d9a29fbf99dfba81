// Changes (analysts, researchers, operators): what changed since a crawl
// run or a date, as 'adcensus changes' (issue 15): adverts new, changed,
// gone and back per arena, arenas grown or shrunk, persons new and gone,
// and the runs to look at. Counts under the server's minimum are withheld
// ("–").
import {h, table} from '../dom.js';
import {get, qs} from '../api.js';
import {t, fmtDate, fmtNum} from '../i18n.js';
import {barChart} from '../charts.js';

// isoDate is a date as YYYY-MM-DD (local time).
function isoDate(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

const daysAgo = (n) => { const d = new Date(); d.setDate(d.getDate() - n); return isoDate(d); };

const num = (v) => (v === null || v === undefined ? '–' : v);

export async function render(main, ctx) {
  const since = ctx.params.get('since') || daysAgo(7);
  const input = h('input', {type: 'text', id: 'since', name: 'since', value: since, 'aria-describedby': 'since-help', autocomplete: 'off'});
  const form = h('form', {class: 'row', id: 'changes-form'},
    h('div', {}, h('label', {for: 'since'}, t('changes.since')), input,
      h('span', {id: 'since-help', class: 'meta'}, t('changes.sinceHelp'))),
    h('div', {}, h('button', {type: 'submit'}, t('changes.show'))));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    ctx.go('#/changes' + qs({since: input.value.trim()}));
  });
  const preset = (label, value) => h('li', {}, h('a', {href: '#/changes' + qs({since: value})}, label));
  main.append(h('h1', {}, t('changes.title')), h('p', {}, t('changes.intro')), form,
    h('nav', {'aria-label': t('changes.presets')}, h('ul', {class: 'inline'},
      preset(t('changes.week'), daysAgo(7)), preset(t('changes.month'), daysAgo(30)), preset(t('changes.year'), daysAgo(365)))));

  const rep = await get('/api/changes' + qs({since}));
  if (!ctx.isCurrent()) return;
  const sec = h('section', {id: 'changes', 'aria-labelledby': 'changes-result', 'data-runs': rep.runs});
  sec.append(h('h2', {id: 'changes-result'}, t(rep.since_as === 'run' ? 'changes.sinceRun' : 'changes.sinceDate', since, fmtDate(rep.since, true))),
    h('p', {class: 'notice', id: 'changes-summary'}, t('changes.summary', fmtNum(rep.runs),
      rep.persons.new === null ? '–' : fmtNum(rep.persons.new), rep.persons.gone === null ? '–' : fmtNum(rep.persons.gone), rep.min_cell)),
    h('p', {class: 'meta'}, t('counts.suppressedMark')));
  if (rep.arenas.length === 0) {
    sec.append(h('p', {}, t('changes.none')));
    main.append(sec);
    return;
  }
  const labels = rep.arenas.map((a) => a.arena);
  sec.append(barChart({title: t('changes.chart'), labels, id: 'chart-changes', series: [
    {name: t('changes.new'), values: rep.arenas.map((a) => a.new)},
    {name: t('changes.changed'), values: rep.arenas.map((a) => a.changed)},
    {name: t('changes.gone'), values: rep.arenas.map((a) => a.gone)},
    {name: t('changes.back'), values: rep.arenas.map((a) => a.back)}]}));
  const trend = (a) => t('changes.trend.' + a.trend.replace(' ', '-'));
  sec.append(h('h3', {}, t('changes.perArena')), h('div', {id: 'changes-table'}, table(t('changes.perArena'),
    [t('advert.arena'), t('changes.new'), t('changes.changed'), t('changes.gone'), t('changes.back'), t('changes.before'), t('changes.now'), t('changes.trend')],
    rep.arenas.map((a) => [a.arena, num(a.new), num(a.changed), num(a.gone), num(a.back),
      a.before === null && a.trend === 'new arena' ? '—' : num(a.before), num(a.now), trend(a)]))));
  main.append(sec);

  const flags = h('section', {id: 'changes-flags', 'aria-labelledby': 'flags-title'}, h('h2', {id: 'flags-title'}, t('changes.flags')));
  if (rep.flags.length === 0) flags.append(h('p', {}, t('changes.noFlags')));
  for (const f of rep.flags) {
    flags.append(h('div', {class: 'flag-run'},
      h('h3', {}, h('span', {class: 'mono'}, f.run), ' (', f.arena, ')'),
      h('p', {}, f.why, ' — ', t('changes.sighted', fmtNum(f.sighted), f.before < 0 ? '—' : fmtNum(f.before), fmtDate(f.ended, true))),
      (f.empty_fields || []).length ? table(t('changes.emptyFields'), [t('changes.field'), t('changes.emptyBefore'), t('changes.emptyNow')],
        f.empty_fields.map((e) => [e.field, Math.round(100 * e.before) + ' %', Math.round(100 * e.now) + ' %'])) : null));
  }
  main.append(flags);
}
