// Every failure the API can give, in words for the person at the screen. The API's own msg is kept beside it
// where it says something specific (which field, which limit).
const BY_CODE = {
  NETWORK: 'The service could not be reached. Check the connection and try again.',
  SESSION_ENDED: 'Your session has ended. Sign in again.',
  INVALID_CREDENTIALS: 'The email or the password is not right.',
  SIGN_IN_LIMITED: 'Too many failed sign-ins. Wait a while, then try again.',
  CSRF_TOKEN_INVALID: 'This page is out of date. Reload it and try again.',
  RATE_LIMITED: 'Too many requests in the last minute for this account. Wait a moment and try again.',
  STREAM_NOT_FOUND: 'This stream does not exist, or it is not one of your account.',
  CONTACT_NOT_FOUND: 'This contact does not exist in this stream.',
  IMPORT_NOT_FOUND: 'This import does not exist in this stream.',
  IMPORT_FINISHED: 'This import has already finished.',
  PHONE_TAKEN: 'This number belongs to another contact.',
  DUPLICATE_IN_REQUEST: 'This number is used twice.',
  STORE_UNAVAILABLE: 'The directory’s database is not answering. Try again shortly.',
  SHUTTING_DOWN: 'The service is restarting. Try again in a moment.',
  INTERNAL: 'Something went wrong on the server. Try again; if it keeps happening, tell your administrator.',
  UNSUPPORTED_MEDIA_TYPE: 'This file cannot be read as a CSV text file.',
  FILE_TOO_LARGE: 'The file is larger than this service accepts.',
  TOO_MANY_ROWS: 'The file has more rows than this service accepts.',
  NOT_TEXT: 'This file is not UTF-8 text. Save it as “CSV UTF-8” and try again.',
  EMPTY_FILE: 'The file is empty.',
  NO_DATA_ROWS: 'The file has a header row but no contacts.',
  MISSING_COLUMN: 'The file lacks a column the import needs.',
  DUPLICATE_COLUMN: 'The file has the same column twice.',
  MALFORMED_CSV: 'The file is not a well-formed CSV file.',
  MALFORMED_MULTIPART: 'The upload arrived broken. Try again.',
  CURSOR_MISMATCH: 'The list changed; start again from the first page.',
  INVALID_CURSOR: 'The list changed; start again from the first page.',
};

const BY_STATUS = {
  400: 'Some of what was sent is not valid.',
  401: BY_CODE.SESSION_ENDED,
  403: 'You are not allowed to do this.',
  404: 'Not found.',
  409: 'This conflicts with the directory as it is now.',
  413: 'This is larger than the service accepts.',
  415: BY_CODE.UNSUPPORTED_MEDIA_TYPE,
  422: 'This cannot be done as asked.',
  429: BY_CODE.RATE_LIMITED,
  503: 'The service is busy or restarting. Try again shortly.',
};

/** One sentence for an error entry: the API's own message, which names the field or limit. */
export function entryMessage(entry) {
  return entry.msg || BY_CODE[entry.code] || 'Not valid.';
}

/** A summary for a whole failure. */
export function failureMessage(error) {
  const first = error.errors?.[0];
  const known = first && BY_CODE[first.code];
  if (known && first.code !== 'PHONE_TAKEN') return first.msg && !['NETWORK', 'INTERNAL'].includes(first.code) ? `${known} (${first.msg})` : known;
  const general = BY_STATUS[error.status] ?? (error.status >= 500 ? BY_CODE.INTERNAL : 'The request failed.');
  return first?.msg ? `${general} ${first.msg}` : general;
}
