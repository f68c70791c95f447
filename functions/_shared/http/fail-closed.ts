// What a function answers when its configuration is missing or wrong: 503 NOT_CONFIGURED with a
// message naming the setting, and an error log line per request. Never "open": nothing is processed.
import type { Logger } from "../log/logger.ts";
import { AppError, errorResponse } from "./errors.ts";

export function failClosedHandler(name: string, problem: Error, logger: Logger): (req: Request) => Promise<Response> {
  logger.error("function is not configured", { function: name, problem: problem.message });
  const error = new AppError("NOT_CONFIGURED", 503, `${name} is not configured: ${problem.message}`);
  return () => {
    logger.error("refused request: function is not configured", { function: name });
    return Promise.resolve(errorResponse(error));
  };
}
