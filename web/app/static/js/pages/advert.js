// An advert (analysts): its fields, its person and network. Contacts are
// shown as pseudonyms only (the API never has raw ones).
import {h, table} from '../dom.js';
import {get, ApiError} from '../api.js';
import {t, fmtDate} from '../i18n.js';

export async function render(main, ctx) {
  const ad = await get('/api/adverts/' + encodeURIComponent(ctx.arg));
  if (!ctx.isCurrent()) return;
  const row = (k, v) => (v === undefined || v === null || v === '' ? null : [h('dt', {}, t(k)), h('dd', {}, v)]);
  main.append(
    h('h1', {}, ad.title || ad.id),
    ...(ad.possible_minor ? [h('p', {class: 'notice flag', role: 'note'}, t('advert.minorFlag'))] : []), // (Node.append would write null as "null")
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
    photos(await fingerprints(ad.id)));
}

// fingerprints reads the advert's photo fingerprints from its explanation
// (the cluster state); null when there is none (501, 404) or it cannot be
// read now.
async function fingerprints(id) {
  try {
    const ex = await get('/api/adverts/' + encodeURIComponent(id) + '/explain');
    return ex && ex.images ? ex.images : null;
  } catch (e) {
    if (e instanceof ApiError && e.status === 403) throw e;
    return null;
  }
}

// photos shows the fingerprints: the photos themselves are never kept.
function photos(images) {
  const sec = h('section', {id: 'photos', 'aria-labelledby': 'photos-title'}, h('h2', {id: 'photos-title'}, t('advert.photosTitle')),
    h('p', {class: 'meta'}, t('advert.photos')));
  if (images === null) return sec.append(h('p', {}, t('advert.noFingerprints'))), sec;
  if (images.length === 0) return sec.append(h('p', {}, t('advert.noPhotos'))), sec;
  sec.append(table(t('advert.photosTitle'), [t('advert.photoN'), t('advert.phash'), t('advert.mirror'), t('advert.stock')],
    images.map((im, i) => [i + 1, h('code', {class: 'mono'}, im.phash), im.mirror ? h('code', {class: 'mono'}, im.mirror) : '—',
      im.stock ? im.stock : t('advert.notStock')])));
  return sec;
}
