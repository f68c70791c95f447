// POST /functions/v1/alerts/deliver (bearer METRICS_TOKEN): see functions/_shared/alerts/handler.ts.
// Settings (README, "Settings"):
//   SUPABASE_DB_URL | DATABASE_URL   required
//   METRICS_TOKEN                    required (16+ characters): the bearer token the schedule sends
//   ALERT_ALLOW_PRIVATE_URLS         "true" lets organisations' destinations be http/private (development)
//   ALERT_DELIVERY_TIMEOUT_MS        one HTTP attempt (default 5000)
//   ALERT_DELIVERY_BATCH             notices per run (default 20)
import type { Env } from "../_shared/config/env.ts";
import { type AlertsDeps, buildAlertsHandler } from "../_shared/alerts/handler.ts";

export default function buildHandler(env: Env, deps?: AlertsDeps): (req: Request) => Promise<Response> {
  return buildAlertsHandler(env, deps);
}
