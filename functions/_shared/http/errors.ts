// One error type for everything a function refuses on purpose. Each has a stable SCREAMING_SNAKE
// code (listed in the README) and an HTTP status; `errorResponse` is the one place errors become
// responses. Messages are for people and may change; tests assert codes.

export type ErrorCode =
  | "BAD_REQUEST"
  | "INVALID_JSON"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "PAYLOAD_TOO_LARGE"
  | "METHOD_NOT_ALLOWED"
  | "NOT_FOUND"
  | "SIGNATURE_MISSING"
  | "SIGNATURE_INVALID"
  | "TIMESTAMP_INVALID"
  | "TIMESTAMP_OUT_OF_TOLERANCE"
  | "REPLAYED"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "CONFLICT"
  | "IP_NOT_ALLOWED"
  | "RATE_LIMITED"
  | "NOT_CONFIGURED"
  | "UNAVAILABLE"
  | "INVALID_EVENT"
  | "UPSTREAM_RESPONSE_TOO_LARGE"
  | "TEMPLATE_NOT_READY"
  | "WABA_NOT_CONFIGURED"
  | "META_REJECTED"
  | "META_DUPLICATE_NAME"
  | "META_AUTH_FAILED"
  | "UPSTREAM_UNAVAILABLE"
  | "LLM_UNAVAILABLE"
  | "INTERNAL";

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly headers: Record<string, string>;
  /** Extra fields for the error body (e.g. an upstream's error code); never secrets or raw bodies. */
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    status: number,
    message: string,
    headers: Record<string, string> = {},
    details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "AppError";
    this.code = code;
    this.status = status;
    this.headers = headers;
    this.details = details;
  }
}

/** Turns any thrown value into a JSON response. Unknown errors become a bare 500 with no detail. */
export function errorResponse(error: unknown, requestId?: string): Response {
  const known = error instanceof AppError;
  const status = known ? error.status : 500;
  const body = {
    error: {
      code: known ? error.code : "INTERNAL",
      message: known ? error.message : "Internal error",
      ...(known && error.details ? { details: error.details } : {}),
      ...(requestId ? { request_id: requestId } : {}),
    },
  };
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...(known ? error.headers : {}) },
  });
}
