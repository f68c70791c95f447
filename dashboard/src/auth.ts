// Sign-in with supabase-js: email + password against the project's Auth (locally, the stand-in that
// `npm start` serves at /auth/v1, scripts/local-site.ts). The session lives in localStorage and is
// refreshed by supabase-js; the agents' API gets its access token.
import { createClient, type Session } from "@supabase/supabase-js";
import { SUPABASE_ANON_KEY, SUPABASE_URL } from "./config.ts";

export const supabase = createClient(SUPABASE_URL, SUPABASE_ANON_KEY, {
  auth: { persistSession: true, autoRefreshToken: true, detectSessionInUrl: false, storageKey: "switchboard-dashboard-auth" },
});

export async function accessToken(): Promise<string | null> {
  const { data } = await supabase.auth.getSession();
  return data.session?.access_token ?? null;
}

export type { Session };
