// Times in the operator's own zone, the UTC instant in a tooltip.
const local = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function time(iso) {
  if (!iso) return '–';
  const at = new Date(iso);
  const el = document.createElement('time');
  el.dateTime = at.toISOString();
  el.title = `${at.toISOString().replace('T', ' ').slice(0, 19)} UTC`;
  el.textContent = local.format(at);
  return el;
}

export const number = (n, digits = 1) =>
  n === null || n === undefined ? '–' : Number(n).toLocaleString(undefined, { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** Builds an element: h('td', { class: 'x' }, 'text', child). Text is always text (never parsed as HTML). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  return el;
}

export const SEVERITIES = ['critical', 'high', 'medium', 'low'];
