import { rocCurve } from './metrics.js';

/** ROC curves of several classifiers in one self-contained SVG (attack as the positive class). */
export function renderRocSvg(curves: readonly { name: string; scores: ArrayLike<number>; labels: ArrayLike<number>; auc: number }[], title: string): string {
  const size = 420;
  const pad = 50;
  const plot = size - 2 * pad;
  const colours = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];
  const x = (fpr: number): string => (pad + fpr * plot).toFixed(1);
  const y = (tpr: number): string => (size - pad - tpr * plot).toFixed(1);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size + 200}" height="${size}" viewBox="0 0 ${size + 200} ${size}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${size / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`,
    `<rect x="${pad}" y="${pad}" width="${plot}" height="${plot}" fill="none" stroke="#333"/>`,
    `<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" stroke="#bbb" stroke-dasharray="4 4"/>`,
    `<text x="${size / 2}" y="${size - 15}" text-anchor="middle">false positive rate</text>`,
    `<text x="15" y="${size / 2}" text-anchor="middle" transform="rotate(-90 15 ${size / 2})">true positive rate</text>`,
  ];
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(`<text x="${x(t)}" y="${size - pad + 15}" text-anchor="middle">${t}</text>`);
    parts.push(`<text x="${pad - 5}" y="${Number(y(t)) + 4}" text-anchor="end">${t}</text>`);
  }
  curves.forEach((c, i) => {
    const colour = colours[i % colours.length];
    const points = rocCurve(c.scores, c.labels).map((p) => `${x(p.fpr)},${y(p.tpr)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="2" points="${points}"/>`);
    const ly = pad + 14 + i * 18;
    parts.push(`<line x1="${size + 5}" y1="${ly - 4}" x2="${size + 25}" y2="${ly - 4}" stroke="${colour}" stroke-width="3"/>`);
    parts.push(`<text x="${size + 30}" y="${ly}">${escapeXml(c.name)} (AUC ${c.auc.toFixed(3)})</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[ch] ?? ch);
}
