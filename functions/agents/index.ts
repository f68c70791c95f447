// Entry point on Supabase: serves the handler; all logic is in _shared/agents.
import buildHandler from "./handler.ts";

Deno.serve(buildHandler(Deno.env.toObject()));
