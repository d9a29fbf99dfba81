// A person (analysts): the timeline of adverts, cities and arenas over
// time (touring), the evidence for each link, its network.
import {h, table} from '../dom.js';
import {get, ApiError} from '../api.js';
import {t, fmtDate, fmtNum} from '../i18n.js';
import {barChart} from '../charts.js';
import {evidenceTree} from './evidence.js';

// The review patterns (index/reviews) by their ids.
const reviewPatternNames = {
  'review-signs-of-youth': 'youth', 'review-third-party': 'thirdParty', 'review-many-reviewers': 'manyReviewers',
};

export async function render(main, ctx) {
  const id = ctx.arg;
  const p = await get('/api/persons/' + encodeURIComponent(id) + '?size=200');
  if (!ctx.isCurrent()) return;
  main.append(h('h1', {}, t('person.title', p.person_id)));
  main.append(h('dl', {class: 'facts', id: 'person-facts'},
    h('dt', {}, t('person.ads')), h('dd', {}, fmtNum(p.ads)),
    h('dt', {}, t('person.seen')), h('dd', {}, p.first_seen ? fmtDate(p.first_seen) + ' – ' + fmtDate(p.last_seen) : '—'),
    h('dt', {}, t('person.months')), h('dd', {}, fmtNum(p.months_active)),
    h('dt', {}, t('person.arenas')), h('dd', {}, p.arenas.map((a) => h('span', {class: 'pill'}, `${a.term} (${a.count})`))),
    h('dt', {}, t('person.cities')), h('dd', {}, p.cities.map((a) => h('span', {class: 'pill'}, `${a.term} (${a.count})`))),
    h('dt', {}, t('person.networks')), h('dd', {}, p.networks.length
      ? p.networks.map((n) => h('a', {href: '#/network/' + encodeURIComponent(n.term), class: 'pill'}, n.term)) : t('none')),
    h('dt', {}, t('person.contacts')), h('dd', {}, p.contacts.length
      ? p.contacts.map((c) => h('span', {class: 'pill mono'}, `${c.term} (${c.count})`)) : t('none'))));

  if (p.review_flags && p.review_flags.length) {
    main.append(h('section', {id: 'review-flags', 'aria-labelledby': 'review-flags-title'},
      h('h2', {id: 'review-flags-title'}, t('person.reviewFlags')),
      h('p', {class: 'meta'}, t('person.reviewFlagsNote')),
      table(null, [t('person.reviewPattern'), t('person.reviewSigns'), t('person.reviewIds')],
        p.review_flags.map((f) => [reviewPatternNames[f.pattern] ? t('reviewPattern.' + reviewPatternNames[f.pattern]) : f.pattern, f.signs.join('; '), h('span', {class: 'mono'}, f.reviews.join(', '))]))));
  }
  if (p.months.length) {
    main.append(h('h2', {}, t('person.timeline')),
      barChart({title: t('person.perMonth'), labels: p.months.map((m) => m.term), series: [{name: t('unit.ads'), values: p.months.map((m) => m.count)}], id: 'chart-months'}));
  }
  const ads = [...p.adverts].sort((a, b) => String(a.posted_at || '').localeCompare(String(b.posted_at || '')));
  main.append(h('h2', {}, t('person.adverts')), table(null,
    [t('advert.posted'), t('advert.title'), t('advert.city'), t('advert.arena')],
    ads.map((a) => [a.posted_at ? fmtDate(a.posted_at) : '—', h('a', {href: '#/advert/' + encodeURIComponent(a.id)}, a.title || a.id), a.city || '—', a.arena])));
  if (p.ads > p.adverts.length) main.append(h('p', {class: 'meta'}, t('person.more', p.adverts.length, p.ads)));

  const section = h('section', {id: 'evidence', 'aria-labelledby': 'evidence-title'}, h('h2', {id: 'evidence-title'}, t('evidence.title')));
  main.append(section);
  if (id.startsWith('ad:') || ads.length === 0) {
    section.append(h('p', {}, t('evidence.single')));
    return;
  }
  try {
    const ex = await get('/api/adverts/' + encodeURIComponent(ads[0].id) + '/explain');
    if (!ctx.isCurrent()) return;
    section.append(evidenceTree(ex, 'person'));
  } catch (e) {
    // The page stands without its evidence (the cluster state may be
    // missing or held by a writer).
    if (!(e instanceof ApiError) || e.status === 401 || e.status === 403) throw e;
    section.append(h('p', {class: 'meta'}, e.status === 404 || e.status === 501 ? t('evidence.none') : t('evidence.failed', e.status)));
  }
}
