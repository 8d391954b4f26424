import { useEffect, useRef, useState } from 'preact/hooks';
import { api, query, streamBase } from '../api.js';
import { html } from '../html.js';
import { failureMessage } from '../messages.js';
import { onLinkClick } from '../router.js';
import { fullName, when } from '../format.js';

const PAGE = 25;
const SORTS = [
  ['-createdAt', 'Newest first'],
  ['createdAt', 'Oldest first'],
  ['lastName', 'Last name A–Z'],
  ['-lastName', 'Last name Z–A'],
  ['-updatedAt', 'Recently updated'],
];

/** The stream's contacts: search as you type, phone lookup, sort, status, cursor pages, select and delete, export. */
export function Contacts({ streamId, stream, search }) {
  const initial = new URLSearchParams(search);
  const [q, setQ] = useState(initial.get('q') ?? '');
  const [debouncedQ, setDebouncedQ] = useState(q);
  const [phone, setPhone] = useState('');
  const [phoneFilter, setPhoneFilter] = useState('');
  const [phoneError, setPhoneError] = useState('');
  const [sort, setSort] = useState(initial.get('sort') ?? '-createdAt');
  const [status, setStatus] = useState(initial.get('status') ?? 'ACTIVE');
  const [cursors, setCursors] = useState(['']);
  const [page, setPage] = useState(null);
  const [total, setTotal] = useState(null);
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const [selected, setSelected] = useState(new Set());
  const [reload, setReload] = useState(0);
  const requestSeq = useRef(0);

  useEffect(() => {
    const t = setTimeout(() => setDebouncedQ(q), 250);
    return () => clearTimeout(t);
  }, [q]);
  // Any new filter starts from the first page.
  useEffect(() => setCursors(['']), [debouncedQ, phoneFilter, sort, status]);

  const filters = { q: debouncedQ.trim(), phoneNumber: phoneFilter, sort, status };
  const after = cursors[cursors.length - 1];
  useEffect(() => {
    const seq = ++requestSeq.current;
    api('GET', `${streamBase(streamId)}/contacts${query({ ...filters, limit: PAGE, after })}`).then(
      (p) => {
        if (seq !== requestSeq.current) return;
        setPage(p);
        if (p.totalResults !== undefined) setTotal(p.totalResults);
        setError('');
        setPhoneError('');
        setSelected(new Set());
      },
      (err) => {
        if (seq !== requestSeq.current) return;
        const field = err.errors?.find((e) => e.field === 'phoneNumber' || e.field === 'countryCode');
        if (field) setPhoneError(field.msg);
        else setError(failureMessage(err));
      },
    );
  }, [streamId, debouncedQ, phoneFilter, sort, status, after, reload]);

  const results = page?.results ?? [];
  // From the latest state, not this render's: clicks faster than the page redraws must all count.
  const toggle = (id) =>
    setSelected((prev) => {
      const next = new Set(prev);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const allSelected = results.length > 0 && results.every((c) => selected.has(c.id));

  const act = async (label, fn) => {
    setNotice('');
    setError('');
    try {
      setNotice(await fn());
      setReload((n) => n + 1);
    } catch (err) {
      setError(`${label}: ${failureMessage(err)}`);
    }
  };
  const remove = (c) => act('Delete', async () => {
    await api('DELETE', `${streamBase(streamId)}/contacts/${c.id}`);
    return `Deleted ${fullName(c)}.`;
  });
  const restore = (c) => act('Restore', async () => {
    await api('POST', `${streamBase(streamId)}/contacts/${c.id}/restore`);
    return `Restored ${fullName(c)}.`;
  });
  const removeSelected = () => act('Delete', async () => {
    const report = await api('DELETE', `${streamBase(streamId)}/contacts/bulk-delete`, { ids: [...selected] });
    return `Deleted ${report.successful} contact${report.successful === 1 ? '' : 's'}${report.failed ? `; ${report.failed} could not be deleted` : ''}.`;
  });
  const lookup = (e) => {
    e.preventDefault();
    setPhoneError('');
    setPhoneFilter(phone.trim());
  };
  const exportHref = `${streamBase(streamId)}/contacts/export${query(filters)}`;

  return html`
    <div class="page-head">
      <h1>Contacts</h1>
      <a class="button" href=${`/console/streams/${streamId}/contacts/new`} onClick=${onLinkClick}>New contact</a>
    </div>
    <p class="muted" dir="auto">${stream.name}</p>
    <div class="filters">
      <div class="field">
        <label for="search">Search by name</label>
        <input id="search" type="search" value=${q} onInput=${(e) => setQ(e.currentTarget.value)} autocomplete="off" />
      </div>
      <form class="field lookup" onSubmit=${lookup} role="search" aria-label="Phone lookup">
        <label for="phone-lookup">Phone lookup</label>
        <div class="inline">
          <input id="phone-lookup" type="tel" value=${phone} onInput=${(e) => setPhone(e.currentTarget.value)} placeholder="+91 98765 43210"
            aria-invalid=${phoneError ? 'true' : undefined} aria-describedby="phone-lookup-error phone-lookup-hint" />
          <button type="submit" class="secondary">Find</button>
          ${phoneFilter && html`<button type="button" class="secondary" onClick=${() => { setPhone(''); setPhoneFilter(''); }}>Clear</button>`}
        </div>
        <p id="phone-lookup-hint" class="hint">Any form of the number, with its country code.</p>
        <p id="phone-lookup-error" class="error" role="alert">${phoneError}</p>
      </form>
      <div class="field">
        <label for="sort">Sort</label>
        <select id="sort" value=${sort} onChange=${(e) => setSort(e.currentTarget.value)}>
          ${SORTS.map(([v, l]) => html`<option value=${v}>${l}</option>`)}
        </select>
      </div>
      <div class="field">
        <label for="status">Show</label>
        <select id="status" value=${status} onChange=${(e) => setStatus(e.currentTarget.value)}>
          <option value="ACTIVE">Active contacts</option>
          <option value="INACTIVE">Deleted contacts</option>
          <option value="all">All contacts</option>
        </select>
      </div>
    </div>
    <div class="toolbar">
      <button type="button" class="danger" disabled=${selected.size === 0} onClick=${removeSelected}>Delete selected (${selected.size})</button>
      <a class="button secondary" href=${exportHref} download="contacts.csv">Export CSV</a>
      <span class="muted" role="status">${total === null ? '' : `${total.toLocaleString('en')} contact${total === 1 ? '' : 's'}`}</span>
    </div>
    <p class="notice" role="status">${notice}</p>
    <p class="error" role="alert">${error}</p>
    <div class="table-wrap" tabindex="0" role="region" aria-label="Contacts table">
      <table>
        <thead><tr>
          <th scope="col"><input type="checkbox" aria-label="Select all on this page" checked=${allSelected}
            onChange=${() => setSelected(allSelected ? new Set() : new Set(results.map((c) => c.id)))} /></th>
          <th scope="col">Name</th><th scope="col">Phone</th><th scope="col">Status</th><th scope="col">Updated</th><th scope="col"><span class="visually-hidden">Actions</span></th>
        </tr></thead>
        <tbody>
          ${page && results.length === 0 && html`<tr><td colspan="6" class="empty">No contacts match.</td></tr>`}
          ${results.map((c) => html`<tr key=${c.id}>
            <td><input type="checkbox" aria-label=${`Select ${fullName(c)}`} checked=${selected.has(c.id)} onChange=${() => toggle(c.id)} /></td>
            <td class="name"><a href=${`/console/streams/${streamId}/contacts/${c.id}`} onClick=${onLinkClick} dir="auto">${fullName(c) || '(no name)'}</a></td>
            <td class="phone" dir="ltr">${c.cellPhone.phoneNumber}${c.cellPhone.extension && c.cellPhone.extension !== '+' ? ` ext. ${c.cellPhone.extension}` : ''}</td>
            <td>${c.status === 'ACTIVE' ? 'Active' : 'Deleted'}</td>
            <td>${when(c.updatedAt)}</td>
            <td>${c.status === 'ACTIVE'
              ? html`<button type="button" class="link" onClick=${() => remove(c)} aria-label=${`Delete ${fullName(c)}`}>Delete</button>`
              : html`<button type="button" class="link" onClick=${() => restore(c)} aria-label=${`Restore ${fullName(c)}`}>Restore</button>`}</td>
          </tr>`)}
        </tbody>
      </table>
    </div>
    <nav class="pager" aria-label="Pages of contacts">
      <button type="button" class="secondary" disabled=${cursors.length < 2} onClick=${() => setCursors(cursors.slice(0, -1))}>Previous page</button>
      <span>Page ${cursors.length}</span>
      <button type="button" class="secondary" disabled=${!page?.hasMore} onClick=${() => setCursors([...cursors, page.nextCursor])}>Next page</button>
    </nav>`;
}
