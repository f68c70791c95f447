// GET /functions/v1/health, /health/detailed, /health/metrics: see _shared/observability/handlers.ts.
import type { Env } from "../_shared/config/env.ts";
import { buildHealthHandler, type OpsDeps } from "../_shared/observability/handlers.ts";

export default function buildHandler(env: Env, deps?: OpsDeps): (req: Request) => Promise<Response> {
  return buildHealthHandler(env, deps);
}
