// Entry point on Supabase: serves the handler; all logic is in _shared/zoho and _shared/chat.
import buildHandler from "./handler.ts";

Deno.serve(buildHandler(Deno.env.toObject()));
