// The replay window every timestamped scheme applies to its signed timestamp header: Unix seconds,
// digits only, within the tolerance of now in either direction.
import { AppError } from "../http/errors.ts";

/** Returns the timestamp, or throws 401 TIMESTAMP_INVALID / TIMESTAMP_OUT_OF_TOLERANCE. */
export function checkSignedTimestamp(
  text: string,
  headerName: string,
  nowSeconds: number,
  toleranceSeconds: number,
): number {
  const trimmed = text.trim();
  if (!/^[0-9]{1,12}$/.test(trimmed)) {
    throw new AppError("TIMESTAMP_INVALID", 401, `${headerName} must be Unix seconds`);
  }
  const timestamp = Number(trimmed);
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) {
    throw new AppError("TIMESTAMP_OUT_OF_TOLERANCE", 401, "Signature timestamp is too old or too far in the future");
  }
  return timestamp;
}
