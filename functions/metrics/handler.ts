// GET /functions/v1/metrics (Prometheus text, bearer METRICS_TOKEN): see _shared/observability/handlers.ts.
import type { Env } from "../_shared/config/env.ts";
import { buildMetricsHandler, type OpsDeps } from "../_shared/observability/handlers.ts";

export default function buildHandler(env: Env, deps?: OpsDeps): (req: Request) => Promise<Response> {
  return buildMetricsHandler(env, deps);
}
