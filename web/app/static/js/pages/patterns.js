// Patterns (analysts): the named indicator patterns; run one, browse its
// matches, download them.
import {h, table} from '../dom.js';
import {get} from '../api.js';
import {t, fmtNum} from '../i18n.js';

export async function render(main, ctx) {
  const list = await get('/api/patterns');
  if (!ctx.isCurrent()) return;
  main.append(h('h1', {}, t('patterns.title')), h('p', {}, t('patterns.intro')));
  const chosen = ctx.params.get('run');
  main.append(table(null, [t('patterns.name'), t('patterns.level'), t('patterns.description'), ''],
    list.map((p) => [p.name, p.level, p.description,
      h('a', {href: '#/patterns?run=' + encodeURIComponent(p.name), class: 'button secondary', id: 'run-' + p.name,
        'aria-label': t('patterns.runNamed', p.name)}, t('patterns.run'))])));
  if (!chosen) return;
  const rep = await get('/api/patterns/' + encodeURIComponent(chosen));
  if (!ctx.isCurrent()) return;
  const sec = h('section', {id: 'pattern-result', 'aria-labelledby': 'pattern-result-title'},
    h('h2', {id: 'pattern-result-title'}, t('patterns.result', rep.pattern)),
    h('p', {}, t('patterns.summary', fmtNum(rep.examined), fmtNum(rep.persons), fmtNum(rep.networks))),
    h('p', {class: 'notice'}, t('patterns.caveat')),
    h('a', {class: 'button secondary', href: '/api/patterns/' + encodeURIComponent(rep.pattern), download: rep.pattern + '.json', id: 'dl-pattern'}, t('patterns.download')));
  sec.append(table(null, [t('patterns.match'), t('patterns.evidence')],
    rep.matches.map((m) => [
      h('a', {href: (m.key.startsWith('N') && (m.networks || []).includes(m.key) ? '#/network/' : '#/person/') + encodeURIComponent(m.key)}, m.key),
      h('ul', {}, m.evidence.map((e) => h('li', {}, h('strong', {}, e.condition), ': ', e.detail, ' ',
        e.ad_ids.slice(0, 5).map((id) => [h('a', {href: '#/advert/' + encodeURIComponent(id), class: 'mono'}, id), ' '])))),
    ])));
  main.append(sec);
  sec.querySelector('h2').setAttribute('tabindex', '-1');
  requestAnimationFrame(() => sec.querySelector('h2').focus());
}
