import { useEffect, useRef, useState } from 'preact/hooks';
import { api, query, streamBase } from '../api.js';
import { html } from '../html.js';
import { entryMessage, failureMessage } from '../messages.js';
import { onLinkClick } from '../router.js';
import { count, duration, when } from '../format.js';

const POLL_MS = 2000;
const STATE = { queued: 'Waiting to start', running: 'Importing', completed: 'Completed', failed: 'Failed', cancelled: 'Cancelled' };
const finished = (job) => job && ['completed', 'failed', 'cancelled'].includes(job.state);

/** One import job, live: rows from the job with rows/s and time left, cancel, and at the end its failed rows. */
export function ImportJob({ streamId, jobId, embedded = false }) {
  const [job, setJob] = useState(null);
  const [error, setError] = useState('');
  const [failures, setFailures] = useState(null);
  const [rate, setRate] = useState(null);
  const samples = useRef([]);
  const base = `${streamBase(streamId)}/contacts/imports/${jobId}`;

  useEffect(() => {
    let stop = false;
    let timer;
    let source;
    const show = (j) => {
      setJob(j);
      const now = performance.now();
      if (j.state === 'running') {
        samples.current = [...samples.current.filter((s) => now - s.t < 5000), { t: now, rows: j.processedRows }];
        const first = samples.current[0];
        if (now - first.t > 300 && j.processedRows > first.rows) setRate(((j.processedRows - first.rows) * 1000) / (now - first.t));
      }
    };
    // Polling is the fallback: each poll counts against the account's per-minute limit, so it is slow.
    const poll = async () => {
      try {
        const j = await api('GET', base);
        if (stop) return;
        show(j);
        if (!finished(j)) timer = setTimeout(poll, POLL_MS);
      } catch (err) {
        if (stop) return;
        if (err.status === 429 || err.status === 503) timer = setTimeout(poll, POLL_MS * 3);
        else setError(failureMessage(err));
      }
    };
    // One request follows the whole job: the server sends the job each time it changes.
    if (typeof EventSource === 'function') {
      source = new EventSource(`${base}/events`);
      source.onmessage = (e) => {
        const j = JSON.parse(e.data);
        show(j);
        if (finished(j)) source.close();
      };
      source.onerror = () => {
        if (source.readyState === EventSource.CLOSED && !stop) poll();
      };
    } else poll();
    return () => {
      stop = true;
      clearTimeout(timer);
      source?.close();
    };
  }, [jobId]);

  const loadFailures = async (cursor) => {
    try {
      const page = await api('GET', `${base}/failures${query({ limit: 50, cursor })}`);
      setFailures((prev) => ({ results: [...(cursor && prev ? prev.results : []), ...page.results], nextCursor: page.hasMore ? page.nextCursor : null }));
    } catch (err) {
      setError(failureMessage(err));
    }
  };
  useEffect(() => {
    if (finished(job) && job.failed > 0 && failures === null) loadFailures();
  }, [job?.state]);

  const cancel = async () => {
    try {
      setJob(await api('POST', `${base}/cancel`));
    } catch (err) {
      setError(failureMessage(err));
    }
  };

  const total = job?.totalRows ?? 0;
  const processed = job?.processedRows ?? 0;
  const left = rate && job?.state === 'running' ? (total - processed) / rate : NaN;
  return html`
    ${embedded
      ? html`<div class="page-head"><h1>Import contacts</h1><a href=${`/console/streams/${streamId}/imports/${jobId}`} onClick=${onLinkClick}>This import’s own page</a></div>
        ${job?.fileName && html`<p class="muted" dir="auto">${job.fileName}</p>`}`
      : html`<p><a href=${`/console/streams/${streamId}/imports`} onClick=${onLinkClick}>← Import history</a></p>
        <h1>Import ${job?.fileName ? html`<span dir="auto">${job.fileName}</span>` : ''}</h1>`}
    <div class="error" role="alert">${error}</div>
    ${job && html`
      <p class="state" role="status" aria-live="polite">${STATE[job.state]}${job.options?.dryRun ? ' (check only)' : ''}${finished(job) ? `: ${count(job.created)} created, ${count(job.updated)} updated, ${count(job.failed)} failed` : ''}</p>
      <div class="progress-block">
        <label for="import-progress">Rows: ${count(processed)} of ${count(total)}</label>
        <progress id="import-progress" max=${total || 1} value=${processed}>${processed} of ${total}</progress>
        <p class="muted">${job.state === 'running' ? `${rate ? `${count(Math.round(rate))} rows/s` : 'measuring speed…'} · time left ${duration(left)}` : ''}</p>
      </div>
      ${!finished(job) && html`<button type="button" class="danger" onClick=${cancel}>Cancel import</button>`}
      ${embedded && finished(job) && html`<p><a href=${`/console/streams/${streamId}/import`} onClick=${onLinkClick}>Import another file</a></p>`}
      <dl class="facts">
        <div><dt>Created</dt><dd data-count="created">${count(job.created)}</dd></div>
        <div><dt>Updated</dt><dd data-count="updated">${count(job.updated)}</dd></div>
        <div><dt>Failed</dt><dd data-count="failed">${count(job.failed)}</dd></div>
        <div><dt>Started</dt><dd>${when(job.startedAt)}</dd></div>
        <div><dt>Finished</dt><dd>${when(job.finishedAt)}</dd></div>
      </dl>
      ${job.error && html`<p class="error" role="alert">${entryMessage(job.error)}</p>`}
      ${finished(job) && job.failed > 0 && html`
        <section aria-labelledby="failed-h">
          <h2 id="failed-h">Rows that failed</h2>
          <p><a class="button secondary" href=${`${base}/failures.csv`} download=${`${(job.fileName ?? 'import').replace(/\.csv$/i, '')}.failures.csv`}>Download failures CSV</a>
            <span class="hint"> Fix the cells and import that file as it is.</span></p>
          <div class="table-wrap" tabindex="0" role="region" aria-label="Failed rows">
            <table>
              <thead><tr><th scope="col">Line</th><th scope="col">Name</th><th scope="col">Number</th><th scope="col">Why</th></tr></thead>
              <tbody>${(failures?.results ?? []).map((f) => html`<tr>
                <td>${f.row}</td>
                <td dir="auto">${[f.values.firstName, f.values.lastName].filter(Boolean).join(' ')}</td>
                <td dir="ltr">${f.values.cellPhoneNumber ?? ''}</td>
                <td>${f.errors.map((e) => entryMessage(e)).join('; ')}</td>
              </tr>`)}</tbody>
            </table>
          </div>
          ${failures?.nextCursor && html`<button type="button" class="secondary" onClick=${() => loadFailures(failures.nextCursor)}>Show more failed rows</button>`}
        </section>`}`}`;
}
