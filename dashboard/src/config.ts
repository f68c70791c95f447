// Where the dashboard's back end is. Baked in at build time from VITE_ variables (only these reach
// the browser; put nothing secret here): VITE_SUPABASE_URL (default: this page's origin, which is
// what `npm start` serves), VITE_SUPABASE_ANON_KEY (the project's anon/publishable key; locally any
// value), VITE_FUNCTIONS_URL (default: VITE_SUPABASE_URL + /functions/v1).
const env = import.meta.env;
export const SUPABASE_URL: string = (env.VITE_SUPABASE_URL as string | undefined) || location.origin;
export const SUPABASE_ANON_KEY: string = (env.VITE_SUPABASE_ANON_KEY as string | undefined) || "local-anon-key";
export const AGENTS_URL: string = `${(env.VITE_FUNCTIONS_URL as string | undefined) || `${SUPABASE_URL}/functions/v1`}/agents`;
