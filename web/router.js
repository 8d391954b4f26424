import { useEffect, useState } from 'preact/hooks';

const listeners = new Set();
let seq = 0;

/** Counts navigations: a page keyed by it starts afresh when its own link is followed again. */
export const navigationCount = () => seq;

/** Goes to a console path without reloading the page. */
export function navigate(to, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  seq += 1;
  for (const fn of listeners) fn();
}

window.addEventListener('popstate', () => {
  seq += 1;
  for (const fn of listeners) fn();
});

/** The current location (path and query), re-rendering on every navigation. */
export function useLocation() {
  const [loc, setLoc] = useState(() => location.pathname + location.search);
  const [, setSeq] = useState(seq);
  useEffect(() => {
    const fn = () => {
      setLoc(location.pathname + location.search);
      setSeq(seq);
    };
    listeners.add(fn);
    return () => listeners.delete(fn);
  }, []);
  return loc;
}

/** Matches `/console/streams/:streamId/contacts` against a path; the params, or null. */
export function match(pattern, path) {
  const p = pattern.split('/');
  const s = path.split('?')[0].replace(/\/+$/, '').split('/');
  if (p.length !== s.length) return null;
  const params = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(':')) params[p[i].slice(1)] = decodeURIComponent(s[i]);
    else if (p[i] !== s[i]) return null;
  }
  return params;
}

/** A link that navigates inside the console (a plain link for a new tab or a modifier key). */
export function onLinkClick(event) {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const a = event.currentTarget;
  if (a.target || a.hasAttribute('download')) return;
  event.preventDefault();
  navigate(a.getAttribute('href'));
}
