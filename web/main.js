import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, setCsrfToken, whenSessionEnds } from './api.js';
import { html } from './html.js';
import { Layout } from './layout.js';
import { match, navigate, navigationCount, useLocation } from './router.js';
import { SignIn } from './pages/sign-in.js';
import { Contacts } from './pages/contacts.js';
import { ContactForm } from './pages/contact-form.js';
import { ImportPage } from './pages/import.js';
import { ImportJob } from './pages/import-job.js';
import { ImportHistory } from './pages/import-history.js';
import { NotFound } from './pages/not-found.js';

const ROUTES = [
  ['/console/streams/:streamId/contacts', Contacts],
  ['/console/streams/:streamId/contacts/new', ContactForm],
  ['/console/streams/:streamId/contacts/:contactId', ContactForm],
  ['/console/streams/:streamId/import', ImportPage],
  ['/console/streams/:streamId/imports', ImportHistory],
  ['/console/streams/:streamId/imports/:jobId', ImportJob],
];

function App() {
  const loc = useLocation();
  const [session, setSession] = useState(undefined);
  const path = loc.split('?')[0];

  useEffect(() => {
    whenSessionEnds(() => {
      setSession(null);
      setCsrfToken('');
    });
    api('GET', '/console/api/session').then(
      (s) => {
        setCsrfToken(s.csrfToken);
        setSession(s);
      },
      () => setSession(null),
    );
  }, []);

  if (session === undefined) return html`<p class="loading" role="status">Loading…</p>`;
  if (session === null) {
    const next = path.startsWith('/console/sign-in') ? '/console' : loc;
    return html`<${SignIn} onSignedIn=${(s) => {
      setCsrfToken(s.csrfToken);
      setSession(s);
      navigate(next, { replace: true });
    }} />`;
  }
  if (path === '/console' || path === '/console/' || path.startsWith('/console/sign-in')) {
    const first = session.streams[0];
    if (first) {
      queueMicrotask(() => navigate(`/console/streams/${first.streamId}/contacts`, { replace: true }));
      return null;
    }
    return html`<${Layout} session=${session} onSignedOut=${() => setSession(null)}><h1>No streams</h1><p>Your account has no streams yet. An administrator makes them with <code>dialbook streams create</code>.</p></${Layout}>`;
  }
  for (const [pattern, Page] of ROUTES) {
    const params = match(pattern, path);
    if (params) {
      // A stream that is not the account's gets the page the API would give it: not found.
      const stream = session.streams.find((s) => s.streamId === params.streamId);
      return html`<${Layout} session=${session} streamId=${params.streamId} onSignedOut=${() => setSession(null)}>
        ${stream ? html`<${Page} key=${`${path}#${navigationCount()}`} ...${params} stream=${stream} search=${loc.split('?')[1] ?? ''} />` : html`<${NotFound} what="stream" />`}
      </${Layout}>`;
    }
  }
  return html`<${Layout} session=${session} onSignedOut=${() => setSession(null)}><${NotFound} what="page" /></${Layout}>`;
}

render(html`<${App} />`, document.getElementById('app'));
