// The evidence of a person or network (GET /api/adverts/{id}/explain) as
// a readable tree: each link between two adverts with its rule in words.
import {h} from '../dom.js';
import {t} from '../i18n.js';

// evidenceTree renders the spanning tree of the links of one scope
// ("person": within the person; "network": all links of the network).
export function evidenceTree(ex, scope) {
  const nodes = scope === 'person' ? ex.person : ex.network;
  const inScope = new Set(nodes);
  const links = (ex.evidence || []).filter((e) => inScope.has(e.a) && inScope.has(e.b) && (scope === 'network' || e.scope === 'person'));
  const adj = new Map(nodes.map((n) => [n, []]));
  for (const e of links) {
    adj.get(e.a).push({to: e.b, e});
    adj.get(e.b).push({to: e.a, e});
  }
  const seen = new Set();
  const roots = [];
  const build = (id, via) => {
    seen.add(id);
    const li = h('li', {class: 'evidence-node'},
      h('a', {href: '#/advert/' + encodeURIComponent(id), class: 'mono'}, id),
      via ? [' — ', h('span', {class: 'rule'}, ruleText(via.rule)), via.scope === 'network' ? [' ', h('span', {class: 'pill'}, t('evidence.networkOnly'))] : null,
        via.detail ? h('div', {class: 'meta'}, via.detail) : null] : null);
    const kids = adj.get(id).filter((x) => !seen.has(x.to));
    kids.forEach((x) => seen.add(x.to));
    if (kids.length) li.append(h('ul', {}, kids.map((x) => build(x.to, x.e))));
    return li;
  };
  for (const n of nodes) if (!seen.has(n)) roots.push(build(n, null));
  const out = h('div', {class: 'evidence'},
    h('p', {}, t(scope === 'person' ? 'evidence.introPerson' : 'evidence.introNetwork', nodes.length, links.length)),
    h('ul', {class: 'tree', id: 'evidence-tree'}, roots));
  const extra = [['stock', ex.stock], ['templates', ex.templates], ['shared', ex.shared]].filter(([, v]) => v && v.length);
  for (const [k, v] of extra) out.append(h('h3', {}, t('evidence.' + k)), h('ul', {}, v.map((x) => h('li', {}, x))));
  return out;
}

export function ruleText(rule) {
  const k = 'rule.' + rule;
  const s = t(k);
  return s === k ? rule : s;
}
