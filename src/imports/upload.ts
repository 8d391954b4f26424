import type { Readable } from 'node:stream';
import { UnsupportedMediaError, ValidationError } from '../shared/errors.js';
import { boundaryOf, MultipartError, multipartFile } from './multipart.js';

export const FILE_FIELD = 'result_file';

// Media types under which a raw CSV body is accepted (browsers label .csv files with several of them).
const RAW_CSV_TYPES = new Set(['text/csv', 'text/plain', 'application/csv', 'application/vnd.ms-excel', 'application/octet-stream']);

/**
 * The bytes of the uploaded CSV: the file part of a multipart body (recognised by its boundary parameter,
 * whatever media type precedes it, as in the seeds' `application/json;charset=UTF-8; boundary=…`), or a raw CSV body.
 */
export function uploadedFile(contentType: string | undefined, body: Readable, onFileName?: (name: string | undefined, charset?: string) => void): AsyncIterable<Buffer> {
  const type = contentType ?? '';
  const boundary = boundaryOf(type);
  if (boundary) return translateErrors(multipartFile(body, boundary, FILE_FIELD, onFileName));
  const mediaType = type.split(';')[0]!.trim().toLowerCase();
  if (RAW_CSV_TYPES.has(mediaType)) return body;
  throw new UnsupportedMediaError({
    msg: `Send the CSV as multipart/form-data (file field ${FILE_FIELD}) or as a text/csv body${mediaType ? `, not ${mediaType}` : ''}`,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  });
}

async function* translateErrors(parts: AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
  try {
    yield* parts;
  } catch (error) {
    if (error instanceof MultipartError) throw new ValidationError({ msg: `The upload is not readable: ${error.message}`, code: 'MALFORMED_MULTIPART' });
    throw error;
  }
}
