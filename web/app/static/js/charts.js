// Charts drawn as SVG by hand: grouped bars, and an estimate with its
// interval. Each chart has a title and description for screen readers and
// is followed by its numbers as a table.
import {h, s, table} from './dom.js';
import {fmtNum} from './i18n.js';

let chartSeq = 0;

// barChart draws horizontal grouped bars: labels down the side, one bar
// per series. series: [{name, values: [n|null]}]; null is a suppressed
// cell, drawn as a hatched stub with "–".
export function barChart({title, labels, series, id}) {
  const n = ++chartSeq;
  const barH = 14;
  const gap = 8;
  const labelW = Math.min(220, 12 + 7 * Math.max(4, ...labels.map((l) => String(l).length)));
  const width = 640;
  const plotW = width - labelW - 70;
  const groupH = series.length * barH + gap;
  const height = labels.length * groupH + 30;
  const max = Math.max(1, ...series.flatMap((sr) => sr.values.filter((v) => v !== null)));
  const svg = s('svg', {class: 'chart', viewBox: `0 0 ${width} ${height}`, width, height, role: 'img',
    'aria-labelledby': `chart-${n}-title`, id: id || null, 'data-bars': 0});
  svg.append(s('title', {id: `chart-${n}-title`}, title));
  let bars = 0;
  labels.forEach((label, i) => {
    const y0 = 10 + i * groupH;
    svg.append(s('text', {x: labelW - 6, y: y0 + (series.length * barH) / 2 + 4, 'text-anchor': 'end'}, String(label)));
    series.forEach((sr, j) => {
      const v = sr.values[i];
      const y = y0 + j * barH;
      if (v === null || v === undefined) {
        svg.append(s('text', {x: labelW + 4, y: y + barH - 3}, '–'));
        return;
      }
      const w = Math.max(1, (v / max) * plotW);
      svg.append(s('rect', {class: 'b' + (j % 4), x: labelW, y, width: w, height: barH - 2},
        s('title', {}, `${label} – ${sr.name}: ${fmtNum(v)}`)));
      svg.append(s('text', {x: labelW + w + 4, y: y + barH - 3}, fmtNum(v)));
      bars++;
    });
  });
  svg.append(s('line', {class: 'axis', x1: labelW, x2: labelW, y1: 4, y2: height - 18}));
  svg.setAttribute('data-bars', bars);
  return h('figure', {class: 'figure'},
    h('figcaption', {}, h('strong', {}, title)),
    legend(series.map((sr) => sr.name)),
    svg,
    h('details', {}, h('summary', {}, title + ' – tabell / table'),
      table(null, ['', ...series.map((sr) => sr.name)],
        labels.map((l, i) => [String(l), ...series.map((sr) => (sr.values[i] === null ? '–' : sr.values[i]))]))));
}

function legend(names) {
  if (names.length < 2) return null;
  return h('div', {class: 'legend', 'aria-hidden': 'true'}, names.map((nm, j) => h('span', {}, h('i', {class: 'k' + (j % 4)}), nm)));
}

// intervalChart draws observed, estimate and its interval on one axis.
export function intervalChart({title, observed, estimate, low, high, labels}) {
  const n = ++chartSeq;
  const width = 640;
  const height = 90;
  const max = Math.max(observed, estimate, high || 0) * 1.1 || 1;
  const x = (v) => 20 + (v / max) * (width - 60);
  const svg = s('svg', {class: 'chart', viewBox: `0 0 ${width} ${height}`, width, height, role: 'img',
    'aria-labelledby': `chart-${n}-title`, id: 'chart-mse', 'data-bars': 2});
  svg.append(s('title', {id: `chart-${n}-title`},
    `${title}: ${labels.observed} ${fmtNum(observed)}, ${labels.estimate} ${fmtNum(Math.round(estimate))} (${fmtNum(Math.round(low))}–${fmtNum(Math.round(high))})`));
  svg.append(s('line', {class: 'axis', x1: 20, x2: width - 40, y1: 70, y2: 70}));
  svg.append(s('rect', {class: 'b0', x: 20, y: 18, width: Math.max(1, x(observed) - 20), height: 14}));
  svg.append(s('text', {x: x(observed) + 4, y: 30}, `${labels.observed}: ${fmtNum(observed)}`));
  if (low !== undefined && high !== undefined) {
    svg.append(s('line', {class: 'ci', x1: x(low), x2: x(high), y1: 50, y2: 50}));
    svg.append(s('line', {class: 'ci', x1: x(low), x2: x(low), y1: 44, y2: 56}));
    svg.append(s('line', {class: 'ci', x1: x(high), x2: x(high), y1: 44, y2: 56}));
  }
  svg.append(s('circle', {class: 'b1', cx: x(estimate), cy: 50, r: 6}));
  svg.append(s('text', {x: x(estimate) + 8, y: 66}, `${labels.estimate}: ${fmtNum(Math.round(estimate))}`));
  return h('figure', {class: 'figure'}, h('figcaption', {}, h('strong', {}, title)), svg);
}
