/** A self-contained HTML page (inline SVG, no scripts) for an evaluation and its training curves. */
import type { Report } from './metrics.js';
import type { EpochStats } from './train.js';

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

/** Confusion matrix as a heatmap: each cell shaded by its share of the true class's clips. */
export function confusionSvg(r: Report, names: readonly string[]): string {
  const cell = 46;
  const left = 90;
  const top = 90;
  const k = names.length;
  const w = left + k * cell + 50; // room for the last rotated column label
  const h = top + k * cell + 30;
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="11">`];
  parts.push(`<text x="${left + (k * cell) / 2}" y="14" text-anchor="middle" font-weight="bold">predicted</text>`);
  parts.push(`<text transform="translate(12 ${top + (k * cell) / 2}) rotate(-90)" text-anchor="middle" font-weight="bold">true</text>`);
  names.forEach((n, i) => {
    parts.push(`<text transform="translate(${left + i * cell + cell / 2 + 4} ${top - 6}) rotate(-45)">${esc(n)}</text>`);
    parts.push(`<text x="${left - 6}" y="${top + i * cell + cell / 2 + 4}" text-anchor="end">${esc(n)}</text>`);
  });
  r.confusion.forEach((row, t) => {
    const support = row.reduce((a, b) => a + b, 0) || 1;
    row.forEach((v, p) => {
      const share = v / support;
      const shade = Math.round(255 - 200 * share);
      const fill = t === p ? `rgb(${shade},${Math.round(255 - 120 * share)},${shade})` : `rgb(255,${shade},${shade})`;
      const x = left + p * cell;
      const y = top + t * cell;
      parts.push(`<rect x="${x}" y="${y}" width="${cell - 2}" height="${cell - 2}" fill="${fill}"><title>${esc(names[t]!)} → ${esc(names[p]!)}: ${v}</title></rect>`);
      parts.push(`<text x="${x + cell / 2 - 1}" y="${y + cell / 2 + 4}" text-anchor="middle">${v}</text>`);
    });
  });
  parts.push('</svg>');
  return parts.join('');
}

/** Loss and training accuracy per epoch, as two polylines on shared epoch axes. */
export function curvesSvg(history: readonly EpochStats[]): string {
  const W = 560;
  const H = 260;
  const pad = { l: 50, r: 50, t: 20, b: 56 };
  const n = history.length;
  const maxLoss = Math.max(...history.map((h) => h.loss), 1e-9);
  const x = (i: number) => pad.l + (n > 1 ? (i / (n - 1)) * (W - pad.l - pad.r) : 0);
  const yLoss = (v: number) => pad.t + (1 - v / maxLoss) * (H - pad.t - pad.b);
  const yAcc = (v: number) => pad.t + (1 - v) * (H - pad.t - pad.b);
  const line = (ys: number[], color: string) => `<polyline fill="none" stroke="${color}" stroke-width="2" points="${ys.map((y, i) => `${x(i).toFixed(1)},${y.toFixed(1)}`).join(' ')}"/>`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<rect x="${pad.l}" y="${pad.t}" width="${W - pad.l - pad.r}" height="${H - pad.t - pad.b}" fill="none" stroke="#999"/>`,
    line(history.map((h) => yLoss(h.loss)), '#c0392b'),
    line(history.map((h) => yAcc(h.accuracy)), '#2471a3'),
    `<text x="${pad.l - 6}" y="${pad.t + 4}" text-anchor="end" fill="#c0392b">${maxLoss.toFixed(2)}</text>`,
    `<text x="${pad.l - 6}" y="${H - pad.b}" text-anchor="end" fill="#c0392b">0</text>`,
    `<text x="${W - pad.r + 6}" y="${pad.t + 4}" fill="#2471a3">100%</text>`,
    `<text x="${W - pad.r + 6}" y="${H - pad.b}" fill="#2471a3">0%</text>`,
    `<text x="${W / 2}" y="${H - pad.b + 16}" text-anchor="middle">epoch (1–${n})</text>`,
    `<text x="${pad.l}" y="${H - 10}" fill="#c0392b">— training loss (left axis)</text>`,
    `<text x="${pad.l + 200}" y="${H - 10}" fill="#2471a3">— training accuracy (right axis)</text>`,
    '</svg>',
  ].join('');
}

export interface HtmlReportInput {
  title: string;
  names: readonly string[];
  report?: Report;
  history?: readonly EpochStats[];
  notes?: readonly string[];
}

export function renderReportHtml(input: HtmlReportInput): string {
  const { title, names, report: r, history } = input;
  const body: string[] = [`<h1>${esc(title)}</h1>`];
  for (const note of input.notes ?? []) body.push(`<p>${esc(note)}</p>`);
  if (r) {
    body.push(`<p><b>Accuracy ${pct(r.accuracy)}</b>, <b>UAR ${pct(r.uar)}</b>, macro F1 ${pct(r.macroF1)} on ${r.n} clips.</p>`);
    body.push('<table><tr><th></th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>');
    r.perClass.forEach((m, c) => body.push(`<tr><td>${esc(names[c]!)}</td><td>${m.precision.toFixed(3)}</td><td>${m.recall.toFixed(3)}</td><td>${m.f1.toFixed(3)}</td><td>${m.support}</td></tr>`));
    body.push('</table>', '<h2>Confusion matrix</h2>', confusionSvg(r, names));
  }
  if (history?.length) body.push('<h2>Training curves</h2>', curvesSvg(history));
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title><style>body{font-family:sans-serif;max-width:760px;margin:2em auto}table{border-collapse:collapse}td,th{padding:2px 10px;text-align:right}td:first-child{text-align:left}</style></head><body>${body.join('\n')}</body></html>\n`;
}
