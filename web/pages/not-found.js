import { html } from '../html.js';
import { onLinkClick } from '../router.js';

export function NotFound({ what }) {
  return html`<h1>Not found</h1>
    <p role="alert">${what === 'stream' ? 'This stream does not exist, or it is not one of your account.' : 'There is no such page in the console.'}</p>
    <p><a href="/console" onClick=${onLinkClick}>Back to the console</a></p>`;
}
