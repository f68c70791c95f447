// Types for scripts/stand-ins/template-model.mjs.
// deno-lint-ignore no-explicit-any
type Body = Record<string, any>;
export function builderState(body: Body): { state: string; draft: Record<string, unknown>; memory: Record<string, unknown>; validator_errors: string[] };
export function lastUserMessage(body: Body): string;
export function templateModelTurn(body: Body): { draft: Record<string, unknown>; reply: string; asks_for: string[]; user_confirmed: boolean };
export function templateModelResponder(body: Body): { json: unknown };
