import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { failureMessage } from '../messages.js';

export function SignIn({ onSignedIn }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  document.title = 'Sign in · Dialbook console';

  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      onSignedIn(await api('POST', '/console/api/sign-in', { email, password }));
    } catch (err) {
      setError(failureMessage(err));
      setBusy(false);
    }
  };
  return html`
    <main id="main" class="sign-in">
      <h1>Sign in to Dialbook</h1>
      <form onSubmit=${submit} noValidate>
        <div class="field">
          <label for="email">Email</label>
          <input id="email" type="email" name="email" autocomplete="username" required value=${email} onInput=${(e) => setEmail(e.currentTarget.value)} aria-describedby=${error ? 'sign-in-error' : undefined} />
        </div>
        <div class="field">
          <label for="password">Password</label>
          <input id="password" type="password" name="password" autocomplete="current-password" required value=${password} onInput=${(e) => setPassword(e.currentTarget.value)} aria-describedby=${error ? 'sign-in-error' : undefined} />
        </div>
        <p id="sign-in-error" class="error" role="alert">${error}</p>
        <button type="submit" disabled=${busy}>Sign in</button>
      </form>
    </main>`;
}
