import type { ImportJobRow, ImportJobState } from '../db/schema.js';
import type { ImportOptions } from './import-engine.js';
import { DEFAULT_FORMAT, type CsvFormat } from './upload-check.js';

/** The API's JSON for an import job. */
export interface ImportJob {
  id: string;
  state: ImportJobState;
  options: ImportOptions;
  fileName: string | null;
  bytes: number;
  totalRows: number | null;
  /** How the file was read: its encoding and delimiter, as detected (or declared). */
  csv: CsvFormat;
  processedRows: number;
  created: number;
  updated: number;
  failed: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  createdBy: string;
  createdByAId: string;
  error?: { msg: string; code: string };
  revert?: { revertedAt: string; deactivated: number; restored: number; skipped: number; skippedIds: string[] };
}

const iso = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());

/** Maps a stored job to the API shape; the one place that knows both. */
export function toImportJob(row: ImportJobRow): ImportJob {
  const job: ImportJob = {
    id: row.id,
    state: row.state,
    options: JSON.parse(row.options) as ImportOptions,
    fileName: row.file_name,
    bytes: Number(row.bytes),
    totalRows: row.total_rows === null ? null : Number(row.total_rows),
    csv: row.csv_format ? (JSON.parse(row.csv_format) as CsvFormat) : DEFAULT_FORMAT,
    processedRows: Number(row.processed_rows),
    created: Number(row.created_count),
    updated: Number(row.updated_count),
    failed: Number(row.failed_count),
    createdAt: iso(row.created_at)!,
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
    createdBy: row.created_by,
    createdByAId: row.created_by_aid,
  };
  if (row.error) job.error = JSON.parse(row.error) as { msg: string; code: string };
  const revert = row.revert ? (JSON.parse(row.revert) as { revertedAt?: number; deactivated: number; restored: number; skippedIds: string[] }) : undefined;
  // A revert under way has only its start recorded; the outcome is shown once it is done.
  if (revert?.revertedAt) {
    job.revert = { revertedAt: iso(revert.revertedAt)!, deactivated: revert.deactivated, restored: revert.restored, skipped: revert.skippedIds.length, skippedIds: revert.skippedIds };
  }
  return job;
}

export function finished(state: ImportJobState): boolean {
  return state === 'completed' || state === 'failed' || state === 'cancelled' || state === 'reverted';
}
