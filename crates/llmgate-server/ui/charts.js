// Charts as inline SVG, drawn from numbers (no library). Every chart is labelled for screen
// readers and carries a <title> per bar, so hovering shows the value.

const NS = 'http://www.w3.org/2000/svg';

function el(tag, attrs = {}, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

// A bar per point: points = [{label, value}], format(value) -> string.
// `integer`: counts, whose scale is rounded up to an even number so the grid values are exact.
export function barChart(points, { title, format = String, height = 180, kind = '', integer = false } = {}) {
  const width = 640;
  const pad = { top: 16, right: 8, bottom: 28, left: 56 };
  const svg = el('svg', {
    viewBox: `0 0 ${width} ${height}`,
    class: 'chart',
    role: 'img',
    'aria-label': title || 'chart',
  });
  const top = Math.max(0, ...points.map((p) => p.value)) || 1;
  const max = integer ? Math.max(2, Math.ceil(top / 2) * 2) : top;
  const innerW = width - pad.left - pad.right;
  const innerH = height - pad.top - pad.bottom;
  // Three grid lines with their values.
  for (let i = 0; i <= 2; i++) {
    const v = (max * i) / 2;
    const y = pad.top + innerH - (innerH * i) / 2;
    svg.append(el('line', { x1: pad.left, x2: width - pad.right, y1: y, y2: y, class: 'grid' }));
    svg.append(el('text', { x: pad.left - 6, y: y + 4, class: 'axis', 'text-anchor': 'end' }, format(v)));
  }
  const n = Math.max(points.length, 1);
  const slot = innerW / n;
  const barW = Math.max(1, slot * 0.7);
  const every = Math.ceil(n / 8);
  points.forEach((p, i) => {
    const h = (innerH * p.value) / max;
    const x = pad.left + i * slot + (slot - barW) / 2;
    const bar = el('rect', { x, y: pad.top + innerH - h, width: barW, height: Math.max(h, 0), class: `bar ${kind}`.trim() });
    bar.append(el('title', {}, `${p.label}: ${format(p.value)}`));
    svg.append(bar);
    if (i % every === 0) {
      svg.append(el('text', { x: x + barW / 2, y: height - 8, class: 'axis', 'text-anchor': 'middle' }, p.label.slice(5)));
    }
  });
  return svg;
}

// A labelled horizontal bar per row (a breakdown's top entries): points = [{label, value}].
export function hbarChart(points, { title, format = String } = {}) {
  const width = 460;
  const row = 22;
  const left = 130;
  const right = 84;
  const height = points.length * row + 8;
  const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart hchart', role: 'img', 'aria-label': title || 'chart' });
  const max = Math.max(0, ...points.map((p) => p.value)) || 1;
  points.forEach((p, i) => {
    const y = 4 + i * row;
    const w = ((width - left - right) * p.value) / max;
    const name = p.label.length > 18 ? `${p.label.slice(0, 17)}…` : p.label;
    svg.append(el('text', { x: left - 8, y: y + 14, class: 'axis', 'text-anchor': 'end' }, name));
    const bar = el('rect', { x: left, y: y + 3, width: Math.max(w, 0), height: row - 8, class: 'bar' });
    bar.append(el('title', {}, `${p.label}: ${format(p.value)}`));
    svg.append(bar);
    svg.append(el('text', { x: left + Math.max(w, 0) + 6, y: y + 14, class: 'axis' }, format(p.value)));
  });
  return svg;
}
