import { useRef, useState } from 'preact/hooks';
import { query, streamBase, upload } from '../api.js';
import { html } from '../html.js';
import { failureMessage } from '../messages.js';
import { previewCsv } from '../csv-preview.js';
import { onLinkClick } from '../router.js';
import { ImportJob } from './import-job.js';
import { count } from '../format.js';

/** Pick or drop a CSV, see what will be read, choose the options, upload with progress; then the job's own page. */
export function ImportPage({ streamId }) {
  const [file, setFile] = useState(null);
  const [preview, setPreview] = useState(null);
  const [onDuplicate, setOnDuplicate] = useState('reject');
  const [atomic, setAtomic] = useState(false);
  const [dryRun, setDryRun] = useState(false);
  const [progress, setProgress] = useState(null);
  const [error, setError] = useState('');
  const [dragging, setDragging] = useState(false);
  const [jobId, setJobId] = useState(null);
  const input = useRef(null);

  const choose = async (f) => {
    setError('');
    setFile(f ?? null);
    setPreview(null);
    if (!f) return;
    try {
      setPreview(await previewCsv(f));
    } catch {
      setError('The file could not be read.');
    }
  };
  const start = async (e) => {
    e.preventDefault();
    setError('');
    setProgress({ loaded: 0, total: file.size });
    try {
      const job = await upload(`${streamBase(streamId)}/contacts/imports${query({ onDuplicate, atomic: atomic || undefined, dryRun: dryRun || undefined })}`, file, (loaded, total) => setProgress({ loaded, total }));
      // The same bar goes on with the job's rows: the job is followed here, and has its own page too.
      setJobId(job.id);
    } catch (err) {
      setProgress(null);
      setError(failureMessage(err));
    }
  };
  const pct = progress && progress.total ? Math.round((progress.loaded / progress.total) * 100) : 0;

  if (jobId) return html`<${ImportJob} streamId=${streamId} jobId=${jobId} embedded=${true} />`;
  return html`
    <div class="page-head"><h1>Import contacts</h1><a href=${`/console/streams/${streamId}/imports`} onClick=${onLinkClick}>Import history</a></div>
    <form onSubmit=${start}>
      <div class=${`drop ${dragging ? 'dragging' : ''}`}
        onDragOver=${(e) => { e.preventDefault(); setDragging(true); }}
        onDragLeave=${() => setDragging(false)}
        onDrop=${(e) => { e.preventDefault(); setDragging(false); choose(e.dataTransfer.files[0]); }}>
        <label for="csv-file">CSV file</label>
        <input id="csv-file" ref=${input} type="file" accept=".csv,text/csv" onChange=${(e) => choose(e.currentTarget.files[0])} aria-describedby="csv-hint" />
        <p id="csv-hint" class="hint">Drop a file here or pick one. Columns: firstName, lastName, salutation, cellPhoneNumber, cellPhoneCountryCode, cellPhoneExtension.</p>
      </div>
      <div class="error" role="alert">${error}</div>
      ${preview && html`
        <section aria-labelledby="preview-h">
          <h2 id="preview-h">Before anything is written</h2>
          <dl class="facts">
            <div><dt>File</dt><dd dir="auto">${file.name} (${count(file.size)} bytes)</dd></div>
            <div><dt>Encoding</dt><dd>${preview.encoding}</dd></div>
            <div><dt>Delimiter</dt><dd>${preview.delimiter}</dd></div>
          </dl>
          ${preview.problems.length > 0 && html`<ul class="error" role="alert">${preview.problems.map((p) => html`<li>${p}</li>`)}</ul>`}
          <div class="table-wrap" tabindex="0" role="region" aria-label="First rows of the file">
            <table class="preview">
              <caption>First ${preview.rows.length} rows, with the column each one is read as</caption>
              <thead><tr>${preview.columns.map((c) => html`<th scope="col"><span dir="auto">${c.name}</span><br /><small class=${c.maps ? 'ok' : 'muted'}>${c.maps ? `→ ${c.maps}` : 'ignored'}</small></th>`)}</tr></thead>
              <tbody>${preview.rows.map((r) => html`<tr>${preview.columns.map((_, i) => html`<td dir="auto">${r[i] ?? ''}</td>`)}</tr>`)}</tbody>
            </table>
          </div>
        </section>
        <fieldset>
          <legend>When a number already belongs to a contact</legend>
          <label class="choice"><input type="radio" name="dup" value="reject" checked=${onDuplicate === 'reject'} onChange=${() => setOnDuplicate('reject')} /> Skip the row (it is listed as failed)</label>
          <label class="choice"><input type="radio" name="dup" value="update" checked=${onDuplicate === 'update'} onChange=${() => setOnDuplicate('update')} /> Update the existing contact</label>
        </fieldset>
        <fieldset>
          <legend>Options</legend>
          <label class="choice"><input type="checkbox" checked=${atomic} onChange=${(e) => setAtomic(e.currentTarget.checked)} /> All or nothing: write nothing unless every row is good</label>
          <label class="choice"><input type="checkbox" checked=${dryRun} onChange=${(e) => setDryRun(e.currentTarget.checked)} /> Check only: report the rows, write nothing</label>
        </fieldset>
        ${progress && html`<div class="progress-block">
          <label for="import-progress">Uploading: ${count(progress.loaded)} of ${count(progress.total)} bytes</label>
          <progress id="import-progress" max="100" value=${pct}>${pct}%</progress>
        </div>`}
        <button type="submit" disabled=${!!progress || preview.problems.length > 0}>Start import</button>`}
    </form>`;
}
