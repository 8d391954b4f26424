import { useEffect, useState } from 'preact/hooks';
import { api, query, streamBase } from '../api.js';
import { html } from '../html.js';
import { failureMessage } from '../messages.js';
import { onLinkClick } from '../router.js';
import { count, when } from '../format.js';

const STATE = { queued: 'Waiting', running: 'Running', completed: 'Completed', failed: 'Failed', cancelled: 'Cancelled' };

/** The stream's imports, newest first, with their states and counts. */
export function ImportHistory({ streamId }) {
  const [jobs, setJobs] = useState(null);
  const [next, setNext] = useState(null);
  const [error, setError] = useState('');
  const load = async (cursor) => {
    try {
      const page = await api('GET', `${streamBase(streamId)}/contacts/imports${query({ limit: 20, cursor })}`);
      setJobs((prev) => [...(cursor && prev ? prev : []), ...page.results]);
      setNext(page.hasMore ? page.nextCursor : null);
    } catch (err) {
      setError(failureMessage(err));
    }
  };
  useEffect(() => {
    load();
  }, [streamId]);

  return html`
    <div class="page-head"><h1>Import history</h1><a class="button" href=${`/console/streams/${streamId}/import`} onClick=${onLinkClick}>New import</a></div>
    <div class="error" role="alert">${error}</div>
    <div class="table-wrap" tabindex="0" role="region" aria-label="Imports">
      <table>
        <thead><tr><th scope="col">File</th><th scope="col">State</th><th scope="col">Rows</th><th scope="col">Created</th><th scope="col">Updated</th><th scope="col">Failed</th><th scope="col">Started</th></tr></thead>
        <tbody>
          ${jobs && jobs.length === 0 && html`<tr><td colspan="7" class="empty">No imports yet.</td></tr>`}
          ${(jobs ?? []).map((j) => html`<tr key=${j.id}>
            <td class="name"><a href=${`/console/streams/${streamId}/imports/${j.id}`} onClick=${onLinkClick} dir="auto">${j.fileName ?? j.id}</a></td>
            <td>${STATE[j.state] ?? j.state}${j.options?.dryRun ? ' (check only)' : ''}</td>
            <td>${count(j.processedRows)} / ${count(j.totalRows)}</td>
            <td>${count(j.created)}</td><td>${count(j.updated)}</td><td>${count(j.failed)}</td>
            <td>${when(j.startedAt ?? j.createdAt)}</td>
          </tr>`)}
        </tbody>
      </table>
    </div>
    ${next && html`<button type="button" class="secondary" onClick=${() => load(next)}>Show older imports</button>`}`;
}
