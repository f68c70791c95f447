-- llm_calls: one row per call to a language model (chat bot turns, template-builder drafts, knowledge
-- answers, embeddings), success or failure, with what was sent, what came back, latency, tokens and a
-- stable error code. Written after the answer by functions/_shared/llm/recorder.ts (batched), read
-- by the debug views of the chat bot and the template builder and by members of the organisation.
--
-- Why: an LLM's behaviour can only be explained from its inputs and outputs. The systems this project
-- replaces kept such a log per session; we keep it per organisation, with the conversation (or a
-- subject such as a template-builder session) it belongs to, for 30 days (retention below).
--
-- Secrets never land here: the client records the messages, tools and parameters it sent (not
-- headers or keys) and error messages of its own wording, never the provider's text.

create table public.llm_calls (
  id bigint generated always as identity primary key,
  org_id uuid not null references public.orgs (id) on delete cascade,
  conversation_id uuid,
  -- What the call was for; the debug views filter on it.
  purpose text not null,
  -- What else the call belongs to, when not a conversation: e.g. a template-builder session id.
  subject_id text,
  model text not null,
  -- What was sent: {"messages": [...], "tools": [...], "params": {...}}, large strings truncated.
  request jsonb not null,
  -- What came back (the assistant message, finish reason, usage), or null after a failure.
  response jsonb,
  -- The tool calls the model asked for: [{"id", "name", "arguments"}], or null for none.
  tool_calls jsonb,
  latency_ms int not null,
  prompt_tokens int,
  completion_tokens int,
  streamed boolean not null default false,
  -- Null for a success; else a stable code the callers branch on.
  error_code text,
  -- Our own words about the failure (never a key, a header or the provider's raw text).
  error_message text,
  created_at timestamptz not null default now(),

  constraint llm_calls_purpose_valid check (purpose in ('chat', 'template', 'knowledge', 'embedding')),
  constraint llm_calls_error_code_valid check (error_code in (
    'timeout', 'rate_limited', 'server_error', 'circuit_open', 'bad_response', 'refused', 'network',
    'unauthorized', 'bad_request')),
  -- A success carries no error message; a failure may carry one.
  constraint llm_calls_error_message_needs_code check (error_message is null or error_code is not null),
  constraint llm_calls_latency_nonnegative check (latency_ms >= 0),
  constraint llm_calls_tokens_nonnegative check (prompt_tokens >= 0 and completion_tokens >= 0),
  constraint llm_calls_subject_length check (length(subject_id) <= 200),
  -- The conversation must be of the same organisation; deleting it keeps the call, unlinked.
  constraint llm_calls_conversation_fk foreign key (conversation_id, org_id)
    references public.conversations (id, org_id) on delete set null (conversation_id)
);
comment on table public.llm_calls is
  'Every LLM call (request, response, tool calls, latency, tokens, error code), kept 30 days. Written by the service role.';
comment on column public.llm_calls.error_code is
  'Null = success; else timeout, rate_limited, server_error, circuit_open, bad_response, refused, network, unauthorized, bad_request.';
comment on constraint llm_calls_error_code_valid on public.llm_calls is
  'The codes of LlmError (functions/_shared/llm/errors.ts): callers branch on them, so they are a closed list.';
comment on constraint llm_calls_conversation_fk on public.llm_calls is
  'A call can only belong to a conversation of its own organisation.';

-- An organisation's calls in time order (debug views, dashboards) and retention's loose index scan.
create index llm_calls_org_created_idx on public.llm_calls (org_id, created_at);
-- A conversation's calls in order (the chat debug view) and the foreign key's set-null.
create index llm_calls_conversation_idx on public.llm_calls (conversation_id, created_at)
  where conversation_id is not null;
-- A subject's calls (the template builder's debug view).
create index llm_calls_subject_idx on public.llm_calls (org_id, subject_id, created_at)
  where subject_id is not null;

alter table public.llm_calls enable row level security;
create policy llm_calls_member_read on public.llm_calls for select to authenticated
  using (org_id in (select public.user_org_ids()));
revoke all on public.llm_calls from anon, authenticated;
grant select on public.llm_calls to authenticated;
grant select, insert, update, delete on public.llm_calls to service_role;

-- ---------------------------------------------------------------------------------------------
-- Retention
-- ---------------------------------------------------------------------------------------------

-- Per-organisation override of the 30 days, like the other log periods; null means the default.
alter table public.maintenance_settings add column llm_call_retention interval;
alter table public.maintenance_settings add constraint maintenance_settings_llm_call_retention_positive
  check (llm_call_retention > interval '0');

-- Deletes llm_calls rows older than their organisation's llm_call_retention (default 30 days) before
-- p_now, with the same bounded, resting batches as the webhook logs (see purge_old_log_rows in
-- 20261123000320_maintenance.sql: organisations walked over (org_id, created_at), at most one batch
-- per DELETE and a bounded number of DELETEs per call). Rows are never updated, so nothing is claimed.
-- Returns rows deleted.
-- Who may call: the service role, pg_cron and run_maintenance_tasks(). Changes llm_calls only.
create or replace function public.cleanup_old_llm_calls(
  p_now timestamptz default now(), p_batch_size int default null, p_max_batches int default null)
returns bigint
language plpgsql security definer
set search_path = ''
as $$
declare
  c_default_retention constant interval := interval '30 days';
  c_batch_size constant int := 1000;  -- rows per DELETE (rows can be tens of kB: keep batches modest)
  c_max_batches constant int := 500;  -- DELETEs per call
  v_batch int := coalesce(p_batch_size, c_batch_size);
  v_max int := coalesce(p_max_batches, c_max_batches);
begin
  if p_now is null or v_batch < 1 or v_max < 1 then
    raise exception 'cleanup_old_llm_calls: p_now must be given and batch bounds positive'
      using errcode = '22023';
  end if;
  return public.purge_old_log_rows('public.llm_calls', 'llm_call_retention', c_default_retention,
    p_now, v_batch, v_max);
end
$$;
revoke execute on function public.cleanup_old_llm_calls(timestamptz, int, int) from public, anon, authenticated;
grant execute on function public.cleanup_old_llm_calls(timestamptz, int, int) to service_role;

insert into public.maintenance_tasks (name, position, call, analyzed_table, requires_function) values
  ('llm_calls', 45, 'select public.cleanup_old_llm_calls($1)', 'public.llm_calls', null)
on conflict (name) do update
  set position = excluded.position, call = excluded.call, analyzed_table = excluded.analyzed_table;
