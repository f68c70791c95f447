// A request id that follows the work: taken from the caller's header when it is sane, else new.
const SANE = /^[A-Za-z0-9._:-]{8,128}$/;

export function requestIdFrom(req: Request): string {
  const given = req.headers.get("x-request-id");
  return given && SANE.test(given) ? given : crypto.randomUUID();
}
