// The console speaks the public API (and its own /console/api/ routes for the session), with the session cookie and,
// on every state-changing request, the session's CSRF token.
let csrfToken = '';
let onSessionEnded = () => {};

export function setCsrfToken(token) {
  csrfToken = token;
}

export function whenSessionEnds(fn) {
  onSessionEnded = fn;
}

/** An API failure: the HTTP status and the contract's error entries. */
export class ApiError extends Error {
  constructor(status, errors) {
    super(errors.map((e) => e.msg).join('; ') || `HTTP ${status}`);
    this.status = status;
    this.errors = errors;
  }
}

export const streamBase = (streamId) => `/agentassist/api/v1/public/${encodeURIComponent(streamId)}`;

async function errorsOf(response) {
  try {
    const body = await response.json();
    if (Array.isArray(body?.errors)) return body.errors;
  } catch {
    // not JSON: a proxy's page, say
  }
  return [];
}

/** fetch with the session; JSON in and out; throws ApiError for any answer that is not 2xx. */
export async function api(method, url, body) {
  const headers = { accept: 'application/json' };
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response;
  try {
    response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, [{ code: 'NETWORK', msg: 'The service could not be reached' }]);
  }
  if (response.status === 204) return null;
  if (!response.ok) {
    const errors = await errorsOf(response);
    if (response.status === 401 && !url.endsWith('/sign-in')) onSessionEnded();
    throw new ApiError(response.status, errors);
  }
  return response.json();
}

/** Uploads a file with progress (fetch has no upload progress): resolves with the 202's job. */
export function upload(url, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.setRequestHeader('x-csrf-token', csrfToken);
    xhr.setRequestHeader('accept', 'application/json');
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onerror = () => reject(new ApiError(0, [{ code: 'NETWORK', msg: 'The upload was interrupted' }]));
    xhr.onload = () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else {
        if (xhr.status === 401) onSessionEnded();
        reject(new ApiError(xhr.status, Array.isArray(body?.errors) ? body.errors : []));
      }
    };
    const form = new FormData();
    form.append('result_file', file, file.name);
    xhr.send(form);
  });
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
