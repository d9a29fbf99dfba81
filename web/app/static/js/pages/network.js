// A network (analysts): its persons, shared contacts (pseudonyms) and the
// links between persons as a small graph.
import {h, s, table} from '../dom.js';
import {get, ApiError} from '../api.js';
import {t, fmtDate, fmtNum} from '../i18n.js';
import {evidenceTree, ruleText} from './evidence.js';

export async function render(main, ctx) {
  const n = await get('/api/networks/' + encodeURIComponent(ctx.arg) + '?size=200');
  if (!ctx.isCurrent()) return;
  main.append(h('h1', {}, t('network.title', n.network_id)),
    h('dl', {class: 'facts'},
      h('dt', {}, t('network.persons')), h('dd', {}, fmtNum(n.persons)),
      h('dt', {}, t('person.ads')), h('dd', {}, fmtNum(n.ads)),
      h('dt', {}, t('person.seen')), h('dd', {}, n.first_seen ? fmtDate(n.first_seen) + ' – ' + fmtDate(n.last_seen) : '—'),
      h('dt', {}, t('person.arenas')), h('dd', {}, n.arenas.map((a) => h('span', {class: 'pill'}, `${a.term} (${a.count})`))),
      h('dt', {}, t('person.cities')), h('dd', {}, n.cities.map((a) => h('span', {class: 'pill'}, `${a.term} (${a.count})`))),
      h('dt', {}, t('network.contacts')), h('dd', {}, n.contacts.length
        ? n.contacts.map((c) => h('span', {class: 'pill mono'}, `${c.term} (${c.count})`)) : t('none'))));
  main.append(h('h2', {}, t('network.members')), table(null, [t('advert.person'), t('person.ads'), t('advert.title'), t('advert.city')],
    n.members.map((m) => [h('a', {href: '#/person/' + encodeURIComponent(m.person_id || 'ad:' + m.id)}, m.person_id || m.id),
      (m.ad_ids || [m.id]).length, m.title || '—', m.city || '—'])));
  const section = h('section', {id: 'network-graph', 'aria-labelledby': 'graph-title'}, h('h2', {id: 'graph-title'}, t('network.graph')));
  main.append(section);
  if (n.members.length === 0) return;
  let ex;
  try {
    ex = await get('/api/adverts/' + encodeURIComponent(n.members[0].id) + '/explain');
  } catch (e) {
    if (!(e instanceof ApiError) || e.status === 401 || e.status === 403) throw e;
    section.append(h('p', {class: 'meta'}, e.status === 404 || e.status === 501 ? t('evidence.none') : t('evidence.failed', e.status)));
    return;
  }
  if (!ctx.isCurrent()) return;
  section.append(graph(n.members, ex), h('h3', {}, t('evidence.title')), evidenceTree(ex, 'network'));
}

// graph draws the persons on a circle and a line for each link between
// adverts of two different persons, titled with its rule.
function graph(members, ex) {
  const personOf = new Map();
  for (const m of members) for (const id of m.ad_ids || [m.id]) personOf.set(id, m.person_id || 'ad:' + m.id);
  const persons = members.map((m) => m.person_id || 'ad:' + m.id);
  const size = persons.length > 1 ? 420 : 60;
  const r = persons.length > 1 ? 150 : 0;
  const pos = new Map(persons.map((p, i) => {
    const a = (2 * Math.PI * i) / persons.length - Math.PI / 2;
    return [p, [persons.length > 1 ? size / 2 + r * Math.cos(a) : 20, size / 2 + r * Math.sin(a)]];
  }));
  const edges = new Map();
  for (const e of ex.evidence || []) {
    const a = personOf.get(e.a);
    const b = personOf.get(e.b);
    if (!a || !b || a === b) continue;
    const key = [a, b].sort().join('|');
    if (!edges.has(key)) edges.set(key, {a, b, rules: new Set()});
    edges.get(key).rules.add(ruleText(e.rule));
  }
  const width = Math.max(size, 260);
  const svg = s('svg', {class: 'chart graph', viewBox: `0 0 ${width} ${size}`, width, height: size, role: 'img',
    'aria-labelledby': 'graph-svg-title', id: 'graph-svg'});
  svg.append(s('title', {id: 'graph-svg-title'}, t('network.graphDesc', persons.length, edges.size)));
  for (const {a, b, rules} of edges.values()) {
    const [x1, y1] = pos.get(a);
    const [x2, y2] = pos.get(b);
    svg.append(s('line', {x1, y1, x2, y2}, s('title', {}, `${a} – ${b}: ${[...rules].join(', ')}`)));
  }
  for (const p of persons) {
    const [x, y] = pos.get(p);
    // Not links: an image may not hold controls; the table above links
    // every person.
    svg.append(s('circle', {class: 'person', cx: x, cy: y, r: 9}), s('text', {x: x + 12, y: y + 4}, p));
  }
  return svg;
}
