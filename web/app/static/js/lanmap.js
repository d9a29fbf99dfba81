// A tile map of Sweden's 21 län: one equal square per län, placed roughly
// where the län lies (north at the top), shaded by its count. A
// cartogram, not a map of areas: Norrbotten is as large as Gotland. No
// external data: the layout is below. The numbers stay in the bar chart
// and its table beside it (the accessible fallback).
import {h, s} from './dom.js';
import {fmtNum} from './i18n.js';

// LAN: the län as the counts name them, their short label and their tile
// (column, row).
export const LAN = [
  ['Norrbottens län', 'Norrbotten', 2, 0],
  ['Västerbottens län', 'Västerbotten', 1, 1],
  ['Jämtlands län', 'Jämtland', 0, 2], ['Västernorrlands län', 'Västernorrland', 1, 2],
  ['Dalarnas län', 'Dalarna', 0, 3], ['Gävleborgs län', 'Gävleborg', 1, 3],
  ['Värmlands län', 'Värmland', 0, 4], ['Örebro län', 'Örebro', 1, 4], ['Västmanlands län', 'Västmanland', 2, 4], ['Uppsala län', 'Uppsala', 3, 4],
  ['Västra Götalands län', 'Västra Götaland', 0, 5], ['Östergötlands län', 'Östergötland', 1, 5], ['Södermanlands län', 'Södermanland', 2, 5], ['Stockholms län', 'Stockholm', 3, 5],
  ['Hallands län', 'Halland', 0, 6], ['Jönköpings län', 'Jönköping', 1, 6], ['Kalmar län', 'Kalmar', 2, 6], ['Gotlands län', 'Gotland', 3, 6],
  ['Skåne län', 'Skåne', 0, 7], ['Kronobergs län', 'Kronoberg', 1, 7], ['Blekinge län', 'Blekinge', 2, 7],
];

// Shades from light to mid blue: dark text keeps a contrast of at least
// 4.5:1 on every one.
const SHADES = ['#eef3f8', '#d3e2f0', '#b5cfe6', '#97bbdb', '#79a7d1', '#5b93c7'];

let seq = 0;

// lanMap draws the tiles: values maps a län's name to its count (null:
// suppressed, drawn hatched with "–"; missing: none). unitName names the
// count in the tiles' titles.
export function lanMap({title, values, unitName, id, suppressedText}) {
  const n = ++seq;
  const size = 96;
  const gap = 4;
  const cols = 4;
  const rows = 8;
  const width = cols * (size + gap);
  const height = rows * (size + gap);
  const nums = LAN.map(([name]) => values.get(name)).filter((v) => typeof v === 'number');
  const max = Math.max(1, ...nums);
  const shade = (v) => SHADES[v <= 0 ? 0 : 1 + Math.min(SHADES.length - 2, Math.floor(((v - 1) / max) * (SHADES.length - 1)))];
  const svg = s('svg', {class: 'chart lanmap', viewBox: `0 0 ${width} ${height}`, width, height, role: 'img',
    'aria-labelledby': `lanmap-${n}-title`, id: id || null, 'data-tiles': LAN.length});
  svg.append(s('title', {id: `lanmap-${n}-title`}, title));
  for (const [name, label, c, r] of LAN) {
    const v = values.has(name) ? values.get(name) : 0;
    const x = c * (size + gap);
    const y = r * (size + gap);
    const g = s('g', {class: 'tile', 'data-lan': name, 'data-value': v === null ? 'suppressed' : v});
    g.append(s('title', {}, `${name}: ${v === null ? suppressedText : fmtNum(v) + ' ' + unitName}`),
      s('rect', {x, y, width: size, height: size, rx: 4, fill: v === null ? '#e4e4e4' : shade(v), class: v === null ? 'suppressed' : null}),
      s('text', {x: x + size / 2, y: y + size / 2 - 6, 'text-anchor': 'middle', class: label.length > 12 ? 'tile-label long' : 'tile-label'}, label),
      s('text', {x: x + size / 2, y: y + size / 2 + 16, 'text-anchor': 'middle', class: 'tile-value'}, v === null ? '–' : fmtNum(v)));
    svg.append(g);
  }
  return h('figure', {class: 'figure'}, h('figcaption', {}, h('strong', {}, title)), svg);
}
