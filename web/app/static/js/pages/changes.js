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

// A period the trend's from takes (a date, ISO week, month or year); a
// run id is not one.
const isPeriod = (v) => /^\d{4}(-W\d{2}|-\d{2}(-\d{2})?)?$/.test(v);

export async function render(main, ctx) {
  const since = ctx.params.get('since') || daysAgo(7);
  const per = ctx.params.get('per') === 'month' ? 'month' : 'week';
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

  const trendQ = {by: 'arena', period: per, from: isPeriod(since) ? since : ''};
  // The trend is an export: analysts and researchers (operators see the
  // changes only).
  const readsTrend = ['analyst', 'researcher'].some((r) => ctx.session.roles.includes(r));
  const [rep, trend] = await Promise.all([get('/api/changes' + qs({since})),
    readsTrend ? get('/api/export/trend' + qs(trendQ)) : null]);
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
  const trendOf = (a) => t('changes.trend.' + a.trend.replace(' ', '-'));
  sec.append(h('h3', {}, t('changes.perArena')), h('div', {id: 'changes-table'}, table(t('changes.perArena'),
    [t('advert.arena'), t('changes.new'), t('changes.changed'), t('changes.gone'), t('changes.back'), t('changes.before'), t('changes.now'), t('changes.trend')],
    rep.arenas.map((a) => [a.arena, num(a.new), num(a.changed), num(a.gone), num(a.back),
      a.before === null && a.trend === 'new arena' ? '—' : num(a.before), num(a.now), trendOf(a)]))));
  main.append(sec);
  if (trend) main.append(trendSection(trend, since, per, trendQ));

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

// trendSection: persons active per week or month and arena (a chart), with
// new and gone in its table, and the downloads.
function trendSection(trend, since, per, trendQ) {
  const rows = trend.rows || [];
  const periods = [...new Set(rows.map((r) => r.period))].sort();
  const arenas = [...new Set(rows.map((r) => r.group))].sort();
  const find = (p, a) => rows.find((r) => r.period === p && r.group === a);
  const val = (r, k) => (r ? r[k] : 0);
  const other = per === 'week' ? 'month' : 'week';
  const sec = h('section', {id: 'trend', 'aria-labelledby': 'trend-title'},
    h('h2', {id: 'trend-title'}, t('changes.trend.' + per)),
    h('p', {class: 'meta'}, t('changes.trendNote'), ' ',
      h('a', {href: '#/changes' + qs({since, per: other})}, t('changes.trendPer.' + other))));
  if (periods.length === 0) return sec.append(h('p', {}, t('changes.trendNone'))), sec;
  sec.append(barChart({title: t('changes.trend.' + per), labels: periods, id: 'chart-trend',
    series: arenas.map((a) => ({name: a, values: periods.map((p) => val(find(p, a), 'active'))}))}));
  sec.append(h('details', {}, h('summary', {}, t('changes.trendTable')),
    table(t('changes.trend.' + per), [t('changes.period'), t('advert.arena'), t('changes.active'), t('changes.new'), t('changes.gone')],
      rows.map((r) => [r.period, r.group, num(r.active), num(r.new), num(r.gone)]))));
  const link = (format, label, id) => h('a', {class: 'button secondary', id, href: '/api/export/trend' + qs({...trendQ, format}),
    download: format === 'json' ? 'trend.json' : ''}, label);
  sec.append(h('div', {class: 'downloads'}, link('csv', 'CSV', 'dl-trend-csv'), link('csv-excel', t('counts.excel'), 'dl-trend-excel'),
    link('json', 'JSON', 'dl-trend-json')));
  return sec;
}
