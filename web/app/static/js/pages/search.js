// Search (analysts): a query box, facets, results grouped by person.
import {h} from '../dom.js';
import {get, qs, ApiError} from '../api.js';
import {t, fmtDate, fmtNum} from '../i18n.js';

// The facets offered, in order: index fields (docs/SEARCH.md).
const FACETS = ['arena', 'region', 'city', 'week', 'gender', 'possible_minor', 'contact_countries'];
const PAGE = 20;

// quoteValue quotes a facet value for the query language (an exact term).
function quoteValue(value) {
  return '"' + value.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

// queryText is what is searched: the typed query, required, and the chosen
// facet values, required per field (values of one field: any of them).
export function queryText(q, chosen) {
  const byField = new Map();
  for (const c of chosen) {
    const i = c.indexOf('=');
    if (i < 0) continue;
    const f = c.slice(0, i);
    if (!byField.has(f)) byField.set(f, []);
    byField.get(f).push(f + ':' + quoteValue(c.slice(i + 1)));
  }
  if (byField.size === 0) return q;
  const parts = q.trim() ? ['+(' + q + ')'] : [];
  for (const clauses of byField.values()) parts.push('+(' + clauses.join(' ') + ')');
  return parts.join(' ');
}

export async function render(main, ctx) {
  const q = ctx.params.get('q') || '';
  const chosen = ctx.params.getAll('f'); // "field=value"
  const from = Math.max(0, parseInt(ctx.params.get('from') || '0', 10) || 0);
  const input = h('input', {type: 'search', id: 'q', name: 'q', value: q, 'aria-describedby': 'q-help'});
  const form = h('form', {class: 'row searchbox', role: 'search', id: 'search-form'},
    h('div', {}, h('label', {for: 'q'}, t('search.label')), input,
      h('span', {id: 'q-help', class: 'meta'}, t('search.help'))),
    h('div', {}, h('button', {type: 'submit'}, t('search.submit'))));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    ctx.go(link(input.value, chosen, 0));
  });
  main.append(h('h1', {}, t('search.title')), form);
  const results = h('div', {id: 'results'});
  const facets = h('div', {class: 'facets', id: 'facets'});
  main.append(h('div', {class: 'layout'}, h('aside', {'aria-label': t('search.facets')}, facets), results));
  input.focus();

  const text = queryText(q, chosen);
  const started = performance.now();
  let res;
  let grouped = true;
  try {
    res = await get('/api/search' + qs({q: text, by_person: 'true', facets: FACETS.join(','), size: PAGE, from, facet_size: 12}));
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 400 || !/broad|group/i.test(e.message)) throw e;
    grouped = false; // too many matches to group: adverts instead
    res = await get('/api/search' + qs({q: text, facets: FACETS.join(','), size: PAGE, from, facet_size: 12}));
  }
  if (!ctx.isCurrent()) return;
  const ms = Math.round(performance.now() - started);
  document.body.dataset.searchMs = String(ms);
  // A field with chosen values shows its counts without its own filter,
  // so that other values of it can be added (any of them matches).
  const facetCounts = {...(res.facets || {})};
  const fields = [...new Set(chosen.map((c) => c.slice(0, c.indexOf('='))))];
  await Promise.all(fields.map(async (f) => {
    const others = chosen.filter((c) => !c.startsWith(f + '='));
    const r = await get('/api/search' + qs({q: queryText(q, others), facets: f, size: 1, facet_size: 12}));
    facetCounts[f] = r.facets[f] || [];
  }));
  if (!ctx.isCurrent()) return;

  renderFacets(facets, facetCounts, q, chosen);
  // What the results are of, for tests and scripts: the query and total.
  results.dataset.q = text;
  results.dataset.total = String(res.total);
  results.append(h('p', {class: 'meta', id: 'result-count', role: 'status'},
    t(grouped ? 'search.persons' : 'search.adverts', fmtNum(res.total)), ' ', t('search.took', ms)));
  if (!grouped) results.append(h('p', {class: 'notice'}, t('search.tooBroad')));
  if (res.hits.length === 0) {
    results.append(h('p', {}, t('search.none')));
    return;
  }
  results.append(h('ol', {class: 'results', start: from + 1}, res.hits.map((hit) => resultItem(hit, grouped))));
  const pager = h('nav', {'aria-label': t('search.pages')});
  if (from > 0) pager.append(h('a', {href: link(q, chosen, Math.max(0, from - PAGE)), rel: 'prev'}, t('search.prev')), ' ');
  if (from + PAGE < res.total) pager.append(h('a', {href: link(q, chosen, from + PAGE), rel: 'next'}, t('search.next')));
  results.append(pager);
}

function link(q, chosen, from) {
  const p = new URLSearchParams();
  if (q) p.set('q', q);
  for (const c of chosen) p.append('f', c);
  if (from) p.set('from', String(from));
  const s = p.toString();
  return '#/search' + (s ? '?' + s : '');
}

function resultItem(hit, grouped) {
  const pid = hit.person_id || ('ad:' + hit.id);
  const n = (hit.ad_ids || [hit.id]).length;
  return h('li', {class: 'hit'},
    h('div', {}, h('a', {href: '#/advert/' + encodeURIComponent(hit.id), class: 'hit-title'}, hit.title || hit.id)),
    h('div', {class: 'meta'},
      grouped ? [h('a', {href: '#/person/' + encodeURIComponent(pid), class: 'person-link'}, t('search.person', pid)), ' · ',
        t('search.advertCount', n), ' · '] : null,
      [hit.arena, hit.city, hit.posted_at ? fmtDate(hit.posted_at) : ''].filter(Boolean).join(' · '),
      hit.network_id ? [' · ', h('a', {href: '#/network/' + encodeURIComponent(hit.network_id)}, t('search.network', hit.network_id))] : null));
}

function renderFacets(el, facets, q, chosen) {
  el.append(h('h2', {class: 'visually-hidden'}, t('search.facets')));
  for (const field of FACETS) {
    const terms = [...(facets[field] || [])];
    // A chosen value stays on the list (to be unchosen) even when it is
    // not among the most frequent.
    for (const c of chosen) {
      const v = c.slice(field.length + 1);
      if (c.startsWith(field + '=') && !terms.some((x) => x.term === v)) terms.push({term: v, count: null});
    }
    if (terms.length === 0) continue;
    const fs = h('fieldset', {}, h('legend', {}, t('facet.' + field)));
    terms.forEach(({term, count}, i) => {
      const key = field + '=' + term;
      const on = chosen.includes(key);
      const id = 'f-' + field + '-' + i;
      const box = h('input', {type: 'checkbox', id, checked: on});
      box.addEventListener('change', () => {
        const next = on ? chosen.filter((c) => c !== key) : [...chosen, key];
        location.hash = link(q, next, 0);
      });
      const label = field === 'possible_minor' ? t('facet.possible_minor.' + term) : term;
      fs.append(h('label', {for: id}, box, label, h('span', {class: 'n'}, fmtNum(count))));
    });
    el.append(fs);
  }
}
