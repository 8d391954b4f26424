export const fullName = (c) => [c.salutation, c.firstName, c.lastName].filter(Boolean).join(' ');
export const when = (iso) => (iso ? new Date(iso).toLocaleString() : '—');
export const count = (n) => (typeof n === 'number' ? n.toLocaleString('en') : '—');
export function duration(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${Math.round(seconds % 60)} s`;
}
