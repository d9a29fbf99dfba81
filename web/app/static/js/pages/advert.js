// An advert (analysts): its fields, its person and network. Contacts are
// shown as pseudonyms only (the API never has raw ones).
import {h} from '../dom.js';
import {get} from '../api.js';
import {t, fmtDate} from '../i18n.js';

export async function render(main, ctx) {
  const ad = await get('/api/adverts/' + encodeURIComponent(ctx.arg));
  if (!ctx.isCurrent()) return;
  const row = (k, v) => (v === undefined || v === null || v === '' ? null : [h('dt', {}, t(k)), h('dd', {}, v)]);
  main.append(
    h('h1', {}, ad.title || ad.id),
    ad.possible_minor ? h('p', {class: 'notice flag', role: 'note'}, t('advert.minorFlag')) : null,
    h('dl', {class: 'facts', id: 'advert-facts'},
      row('advert.id', h('span', {class: 'mono'}, ad.id)),
      row('advert.arena', ad.arena),
      row('advert.url', ad.url ? h('a', {href: ad.url, rel: 'noopener noreferrer nofollow', target: '_blank'}, ad.url) : null),
      row('advert.age', ad.age || null),
      row('advert.city', ad.city),
      row('advert.region', ad.region),
      row('advert.gender', ad.gender),
      row('advert.posted', ad.posted_at ? fmtDate(ad.posted_at, true) : null),
      row('advert.fetched', ad.fetched_at ? fmtDate(ad.fetched_at, true) : null),
      row('advert.week', ad.week),
      row('advert.person', ad.person_id ? h('a', {href: '#/person/' + encodeURIComponent(ad.person_id)}, ad.person_id)
        : h('a', {href: '#/person/' + encodeURIComponent('ad:' + ad.id)}, t('advert.unassigned'))),
      row('advert.network', ad.network_id ? h('a', {href: '#/network/' + encodeURIComponent(ad.network_id)}, ad.network_id) : null),
      row('advert.contacts', ad.contacts.length ? ad.contacts.map((c) => h('span', {class: 'pill mono'}, c)) : t('none')),
      row('advert.countries', ad.contact_countries.length ? ad.contact_countries.join(', ') : null)),
    h('h2', {}, t('advert.text')),
    h('div', {class: 'body-text', lang: ad.lang || null}, ad.body || '—'),
    h('p', {class: 'meta'}, t('advert.photos')));
}
