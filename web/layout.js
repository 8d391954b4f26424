import { useEffect, useRef } from 'preact/hooks';
import { api } from './api.js';
import { html } from './html.js';
import { navigate, onLinkClick, useLocation } from './router.js';

/** Header (stream picker, pages, sign out) around a page; focus moves to the page's heading on every navigation. */
export function Layout({ session, streamId, onSignedOut, children }) {
  const loc = useLocation();
  const main = useRef(null);
  useEffect(() => {
    const heading = main.current?.querySelector('h1');
    if (heading) {
      heading.setAttribute('tabindex', '-1');
      heading.focus({ preventScroll: false });
      document.title = `${heading.textContent} · Dialbook console`;
    }
  }, [loc.split('?')[0]]);

  const signOut = async () => {
    try {
      await api('POST', '/console/api/sign-out');
    } finally {
      onSignedOut();
      navigate('/console/sign-in', { replace: true });
    }
  };
  const section = loc.includes('/import') ? (loc.includes('/imports') ? 'history' : 'import') : 'contacts';
  const base = streamId ? `/console/streams/${streamId}` : '';
  const link = (href, label, current) =>
    html`<a href=${href} onClick=${onLinkClick} aria-current=${current ? 'page' : undefined}>${label}</a>`;

  return html`
    <a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <a class="brand" href="/console" onClick=${onLinkClick}>Dialbook</a>
      ${session.streams.length > 0 && html`
        <label class="stream-picker">
          <span>Stream</span>
          <select value=${streamId ?? ''} onChange=${(e) => navigate(`/console/streams/${e.currentTarget.value}/contacts`)}>
            ${!session.streams.some((s) => s.streamId === streamId) && html`<option value="" disabled>Choose a stream</option>`}
            ${session.streams.map((s) => html`<option value=${s.streamId}>${s.name}</option>`)}
          </select>
        </label>`}
      ${base && html`<nav aria-label="Pages"><ul>
        <li>${link(`${base}/contacts`, 'Contacts', section === 'contacts')}</li>
        <li>${link(`${base}/import`, 'Import', section === 'import')}</li>
        <li>${link(`${base}/imports`, 'Import history', section === 'history')}</li>
      </ul></nav>`}
      <div class="who">
        <span class="email" dir="auto">${session.user.name}</span>
        <button type="button" class="secondary" onClick=${signOut}>Sign out</button>
      </div>
    </header>
    <main id="main" ref=${main}>${children}</main>`;
}
