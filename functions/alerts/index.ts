import buildHandler from "./handler.ts";

Deno.serve(buildHandler(Deno.env.toObject()));
