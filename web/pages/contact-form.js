import { useEffect, useState } from 'preact/hooks';
import { api, streamBase } from '../api.js';
import { html } from '../html.js';
import { entryMessage, failureMessage } from '../messages.js';
import { navigate, onLinkClick } from '../router.js';
import { fullName, when } from '../format.js';

const FIELDS = [
  ['salutation', 'Salutation', 'text', 'honorific-prefix'],
  ['firstName', 'First name', 'text', 'given-name'],
  ['lastName', 'Last name', 'text', 'family-name'],
  ['cellPhone.countryCode', 'Country code', 'text', 'tel-country-code'],
  ['cellPhone.phoneNumber', 'Phone number', 'tel', 'tel-national'],
  ['cellPhone.extension', 'Extension', 'text', 'off'],
];
const EMPTY = { salutation: '', firstName: '', lastName: '', 'cellPhone.countryCode': '+91', 'cellPhone.phoneNumber': '', 'cellPhone.extension': '+' };

const flat = (c) => ({
  salutation: c.salutation, firstName: c.firstName, lastName: c.lastName,
  'cellPhone.countryCode': c.cellPhone.countryCode, 'cellPhone.phoneNumber': c.cellPhone.phoneNumber, 'cellPhone.extension': c.cellPhone.extension,
});
const body = (v) => ({
  salutation: v.salutation, firstName: v.firstName, lastName: v.lastName,
  cellPhone: { countryCode: v['cellPhone.countryCode'], phoneNumber: v['cellPhone.phoneNumber'], extension: v['cellPhone.extension'] },
});
const fieldId = (name) => `f-${name.replace('.', '-')}`;

/** Create (no contactId) or edit a contact; the API's validation messages appear beside their fields. */
export function ContactForm({ streamId, contactId }) {
  const [values, setValues] = useState(contactId ? null : EMPTY);
  const [contact, setContact] = useState(null);
  const [fieldErrors, setFieldErrors] = useState({});
  const [taken, setTaken] = useState(null);
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const [busy, setBusy] = useState(false);
  const base = streamBase(streamId);

  useEffect(() => {
    if (!contactId) return;
    api('GET', `${base}/contacts/${contactId}`).then(
      (c) => {
        setContact(c);
        setValues(flat(c));
      },
      (err) => setError(failureMessage(err)),
    );
  }, [contactId]);

  const showErrors = (err) => {
    const byField = {};
    let holder = null;
    const general = [];
    for (const e of err.errors ?? []) {
      if (e.code === 'PHONE_TAKEN' && e.id) holder = e.id;
      const field = e.code === 'PHONE_TAKEN' ? 'cellPhone.phoneNumber' : e.field;
      if (field && FIELDS.some(([f]) => f === field)) byField[field] = entryMessage(e);
      else general.push(entryMessage(e));
    }
    setFieldErrors(byField);
    setTaken(holder);
    setError(general.length || Object.keys(byField).length === 0 ? failureMessage(err) : 'Please correct the fields marked below.');
    const first = FIELDS.find(([f]) => byField[f]);
    if (first) document.getElementById(fieldId(first[0]))?.focus();
  };

  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    setNotice('');
    setFieldErrors({});
    setTaken(null);
    try {
      if (contactId) {
        const updated = await api('PUT', `${base}/contacts/${contactId}`, body(values));
        setContact(updated);
        setValues(flat(updated));
        setNotice('Saved.');
      } else {
        const [created] = await api('POST', `${base}/contacts`, [body(values)]);
        navigate(`/console/streams/${streamId}/contacts/${created.id}`);
      }
    } catch (err) {
      showErrors(err);
    } finally {
      setBusy(false);
    }
  };
  const lifecycle = async (action) => {
    setError('');
    setNotice('');
    try {
      const c = action === 'delete' ? await api('DELETE', `${base}/contacts/${contactId}`) : await api('POST', `${base}/contacts/${contactId}/restore`);
      setContact(c);
      setNotice(action === 'delete' ? 'Deleted. Its number is free for another contact.' : 'Restored.');
    } catch (err) {
      showErrors(err);
    }
  };

  const title = contactId ? (contact ? `Edit ${fullName(contact)}` : 'Edit contact') : 'New contact';
  return html`
    <p><a href=${`/console/streams/${streamId}/contacts`} onClick=${onLinkClick}>← Contacts</a></p>
    <h1 dir="auto">${title}</h1>
    ${contact && html`<p class="muted">Status: <strong>${contact.status === 'ACTIVE' ? 'Active' : 'Deleted'}</strong> · Updated ${when(contact.updatedAt)}</p>`}
    <p class="notice" role="status">${notice}</p>
    <div class="error" role="alert">${error}${taken && html` <a href=${`/console/streams/${streamId}/contacts/${taken}`} onClick=${onLinkClick}>Open the contact that holds it</a>`}</div>
    ${values && html`<form class="contact-form" onSubmit=${submit} noValidate>
      ${FIELDS.map(([name, label, type, autocomplete]) => html`
        <div class="field">
          <label for=${fieldId(name)}>${label}</label>
          <input id=${fieldId(name)} name=${name} type=${type} dir="auto" autocomplete=${autocomplete} value=${values[name]} required
            aria-invalid=${fieldErrors[name] ? 'true' : undefined} aria-describedby=${`${fieldId(name)}-error`}
            onInput=${(e) => setValues({ ...values, [name]: e.currentTarget.value })} />
          <p id=${`${fieldId(name)}-error`} class="error field-error">${fieldErrors[name] ?? ''}${name === 'cellPhone.phoneNumber' && taken
            ? html` <a href=${`/console/streams/${streamId}/contacts/${taken}`} onClick=${onLinkClick}>See its holder</a>` : ''}</p>
        </div>`)}
      <div class="actions">
        <button type="submit" disabled=${busy}>${contactId ? 'Save' : 'Create contact'}</button>
        ${contact && (contact.status === 'ACTIVE'
          ? html`<button type="button" class="danger" onClick=${() => lifecycle('delete')}>Delete</button>`
          : html`<button type="button" class="secondary" onClick=${() => lifecycle('restore')}>Restore</button>`)}
      </div>
    </form>`}`;
}
