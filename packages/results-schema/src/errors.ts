/**
 * Error codes shared by every stepstream component. An error is a value with a code a program can
 * branch on and a message a person can act on.
 */
export type ErrorCode =
  | "BadRequest"
  | "InvalidOffset"
  | "InvalidArn"
  | "NotFound"
  | "InvalidRecord"
  | "RecordTooLarge"
  | "StreamClosed"
  | "Conflict"
  | "Forbidden"
  | "PayloadTooLarge"
  | "MethodNotAllowed"
  | "RequestTimeout"
  | "Unavailable"
  | "Internal";

/**
 * An error with a stable `code`. HTTP front ends map it to `{"error":{"code","message"}}`.
 *
 * @example
 * ```ts
 * throw new StepstreamError("InvalidOffset", "offset must be -1, now or a 16-digit offset");
 * ```
 */
export class StepstreamError extends Error {
  override readonly name = "StepstreamError";
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** HTTP status for an error code (4xx for anything a caller can fix). */
export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case "NotFound":
      return 404;
    case "Forbidden":
      return 403;
    case "PayloadTooLarge":
    case "RecordTooLarge":
      return 413;
    case "MethodNotAllowed":
      return 405;
    case "Conflict":
    case "StreamClosed":
      return 409;
    case "RequestTimeout":
      return 408;
    case "Unavailable":
      return 503;
    case "Internal":
      return 500;
    default:
      return 400;
  }
}

/** The one JSON error body every endpoint answers with. */
export function errorBody(code: ErrorCode, message: string): { error: { code: ErrorCode; message: string } } {
  return { error: { code, message } };
}
