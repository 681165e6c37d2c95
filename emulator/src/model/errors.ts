/**
 * Failures of the model carry the canonical Google status they map to, and a message worded as
 * Google words it (see https://cloud.google.com/apis/design/errors), so the HTTP layer only has
 * to wrap them in `{error:{code,message,status}}`.
 */
export type GoogleStatus =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'PERMISSION_DENIED'
  | 'RESOURCE_EXHAUSTED'
  | 'FAILED_PRECONDITION'
  | 'INTERNAL'
  | 'UNAVAILABLE';

const httpCodes: Record<GoogleStatus, number> = {
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  RESOURCE_EXHAUSTED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
};

export class SheetsApiError extends Error {
  override name = 'SheetsApiError';
  constructor(
    readonly status: GoogleStatus,
    message: string,
    /** Extra members of `error`, e.g. `details` for quota errors. */
    readonly extra: Record<string, unknown> = {},
    readonly httpCode: number = httpCodes[status],
  ) {
    super(message);
  }

  toBody(): { error: Record<string, unknown> } {
    return { error: { code: this.httpCode, message: this.message, status: this.status, ...this.extra } };
  }
}

export const invalidArgument = (message: string): SheetsApiError =>
  new SheetsApiError('INVALID_ARGUMENT', message);

/** Google's wording for any A1 string it cannot resolve, including an unknown tab name. */
export const unparsableRange = (range: string): SheetsApiError =>
  invalidArgument(`Unable to parse range: ${range}`);

export const spreadsheetNotFound = (): SheetsApiError =>
  new SheetsApiError('NOT_FOUND', 'Requested entity was not found.');
