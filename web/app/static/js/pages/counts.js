// Counts (researchers, analysts): de-duplicated persons and adverts per
// arena, län and month, children and adults apart, the overlap between
// arenas with the multiple-systems estimate, and the downloads. Every
// number comes from the aggregate API with small cells suppressed.
import {h, table} from '../dom.js';
import {get, qs, ApiError} from '../api.js';
import {t, fmtNum} from '../i18n.js';
import {barChart, intervalChart} from '../charts.js';
import {lanMap} from '../lanmap.js';

const counts = (by, extra) => get('/api/export/counts' + qs({by, format: 'json', ...extra}));

// groups returns the non-total rows of a counts report.
const groups = (rows) => (rows || []).filter((r) => !r.total);
const total = (rows) => (rows || []).find((r) => r.total);

export async function render(main, ctx) {
  main.append(h('h1', {}, t('counts.title')), h('p', {}, t('counts.intro')));
  const [byArena, byRegion, byMonth, byMonthArena, split, ov] = await Promise.all([
    counts('arena'), counts('region'), counts('month'), counts('month,arena'), counts('arena', {split: 'minors'}),
    get('/api/overlap').catch((e) => (e instanceof ApiError && e.status === 501 ? null : Promise.reject(e))),
  ]);
  if (!ctx.isCurrent()) return;
  const tot = total(byArena.rows);
  // The persons count's interval (docs/DEDUP.md), when the server has it.
  const iv = tot && tot.persons_low !== undefined && byArena.seen;
  main.append(h('p', {class: 'notice', id: 'counts-total'}, t(iv ? 'counts.totalInterval' : 'counts.total',
    tot && tot.persons !== null ? fmtNum(tot.persons) : '–', tot && tot.ads !== null ? fmtNum(tot.ads) : '–', byArena.min_cell,
    iv ? Math.round(byArena.seen.level * 100) : '', iv ? fmtNum(tot.persons_low) : '', iv ? fmtNum(tot.persons_high) : '')),
  h('p', {class: 'meta'}, t('counts.suppressedMark')));

  const pa = (rows, dim) => {
    const g = groups(rows);
    return {labels: g.map((r) => r.group[dim] || t('unknown')), persons: g.map((r) => r.persons), ads: g.map((r) => r.ads)};
  };
  const a = pa(byArena.rows, 'arena');
  const r = pa(byRegion.rows, 'region');
  const m = pa(byMonth.rows, 'month');
  const series = (d) => [{name: t('unit.persons'), values: d.persons}, {name: t('unit.ads'), values: d.ads}];
  main.append(h('div', {class: 'grid2'},
    h('section', {}, h('h2', {}, t('counts.perArena')), barChart({title: t('counts.perArena'), labels: a.labels, series: series(a), id: 'chart-arena'})),
    h('section', {}, h('h2', {}, t('counts.perMonth')), barChart({title: t('counts.perMonth'), labels: m.labels, series: series(m), id: 'chart-month'}))));
  // Persons per month and arena: one series per arena.
  const ma = groups(byMonthArena.rows);
  const months = [...new Set(ma.map((x) => x.group.month))].sort();
  const arenaNames = [...new Set(ma.map((x) => x.group.arena))].sort();
  const personsOf = (mo, ar) => { const x = ma.find((y) => y.group.month === mo && y.group.arena === ar); return x ? x.persons : 0; };
  main.append(h('section', {}, h('h2', {}, t('counts.perMonthArena')),
    barChart({title: t('counts.perMonthArena'), labels: months, id: 'chart-month-arena',
      series: arenaNames.map((ar) => ({name: ar, values: months.map((mo) => personsOf(mo, ar))}))})));
  main.append(h('section', {}, h('h2', {}, t('counts.perRegion')),
    h('div', {class: 'grid2'}, lanMap({title: t('counts.lanMap'), values: new Map(r.labels.map((l, i) => [l, r.persons[i]])), unitName: t('unit.persons').toLowerCase(),
      id: 'map-region', suppressedText: t('counts.suppressedCell')}), barChart({title: t('counts.perRegion'), labels: r.labels, series: series(r), id: 'chart-region'}))));

  // Children and adults: persons flagged as possible minors, per arena.
  const minors = groups(split.possible_minors);
  const others = groups(split.others);
  const arenas = [...new Set([...minors, ...others].map((x) => x.group.arena))].sort();
  const pick = (rows, ar) => { const x = rows.find((y) => y.group.arena === ar); return x ? x.persons : 0; };
  main.append(h('section', {}, h('h2', {}, t('counts.split')), h('p', {class: 'meta'}, t('counts.splitNote')),
    barChart({title: t('counts.split'), labels: arenas, id: 'chart-split',
      series: [{name: t('counts.minors'), values: arenas.map((ar) => pick(minors, ar))}, {name: t('counts.adults'), values: arenas.map((ar) => pick(others, ar))}]})));

  if (ov) main.append(overlapSection(ov));
  main.append(downloads());
}

function cell(c) { return c && c.persons !== null && c.persons !== undefined ? c.persons : '–'; }

function overlapSection(ov) {
  const sec = h('section', {id: 'overlap'}, h('h2', {}, t('counts.overlap')));
  sec.append(table(t('counts.pairs'), [t('counts.arenaA'), t('counts.arenaB'), t('unit.persons')],
    ov.pairs.map((p) => [p.a, p.b, cell(p)])));
  const e = ov.estimate;
  if (e) {
    sec.append(h('h3', {}, t('counts.mse')),
      intervalChart({title: t('counts.mse'), observed: e.observed, estimate: e.total, low: e.ci_low, high: e.ci_high,
        labels: {observed: t('counts.observed'), estimate: t('counts.estimated')}}),
      h('p', {id: 'mse-text'}, t('counts.mseText', fmtNum(e.observed), fmtNum(Math.round(e.total)), fmtNum(Math.round(e.ci_low)),
        fmtNum(Math.round(e.ci_high)), Math.round((e.level || 0.95) * 100))));
  } else {
    sec.append(h('p', {class: 'meta'}, t('counts.noEstimate'), ov.estimate_error ? ': ' + ov.estimate_error : ''));
  }
  return sec;
}

function downloads() {
  // The CSV answers name their files; the JSON ones are named here.
  const link = (href, label, id) => h('a', {class: 'button secondary', href, id,
    download: label === 'JSON' ? id.replace(/^dl-/, '').replace(/-json$/, '') + '.json' : ''}, label);
  const by = 'arena,region,month';
  return h('section', {id: 'downloads'}, h('h2', {}, t('counts.downloads')), h('p', {class: 'meta'}, t('counts.downloadsNote')),
    h('h3', {}, t('counts.dlCounts')),
    h('div', {class: 'downloads'},
      link('/api/export/counts' + qs({by, format: 'csv'}), 'CSV', 'dl-counts-csv'),
      link('/api/export/counts' + qs({by, format: 'csv-excel'}), t('counts.excel'), 'dl-counts-excel'),
      link('/api/export/counts' + qs({by, format: 'json'}), 'JSON', 'dl-counts-json')),
    h('h3', {}, t('counts.dlSplit')),
    h('div', {class: 'downloads'},
      link('/api/export/counts' + qs({by: 'arena,region', split: 'minors', format: 'csv'}), 'CSV', 'dl-split-csv'),
      link('/api/export/counts' + qs({by: 'arena,region', split: 'minors', format: 'csv-excel'}), t('counts.excel'), 'dl-split-excel')),
    h('h3', {}, t('counts.dlFacts')),
    h('div', {class: 'downloads'},
      link('/api/export/facts?format=csv', 'CSV', 'dl-facts-csv'),
      link('/api/export/facts?format=csv-excel', t('counts.excel'), 'dl-facts-excel'),
      link('/api/export/facts?format=json', 'JSON', 'dl-facts-json')),
    h('h3', {}, t('counts.dlOverlap')),
    h('div', {class: 'downloads'},
      link('/api/overlap?format=csv', 'CSV', 'dl-overlap-csv'),
      link('/api/overlap?format=csv-excel', t('counts.excel'), 'dl-overlap-excel'),
      link('/api/overlap', 'JSON', 'dl-overlap-json')));
}
