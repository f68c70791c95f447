// POST /functions/v1/integrations/{integration_id}: see functions/_shared/integrations/handler.ts.
import type { Env } from "../_shared/config/env.ts";
import { buildIntegrationsHandler, type IntegrationsDeps } from "../_shared/integrations/handler.ts";

export default function buildHandler(env: Env, deps?: IntegrationsDeps): (req: Request) => Promise<Response> {
  return buildIntegrationsHandler(env, deps);
}
