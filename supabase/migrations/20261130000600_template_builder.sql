-- The WhatsApp template builder (issue 9): a conversation per organisation that drafts a Meta
-- message template, keeps every draft, submits the final payload to Meta and follows its review.
--
--   whatsapp_template_accounts  per organisation: the WhatsApp Business Account id and the access
--                               token used to create templates. Members set the token but can never
--                               read it back (column privileges, as integrations.secret).
--   template_sessions           one builder conversation: its state (gathering, review, final), how
--                               it is driven (guided or llm), its turn counter and last action.
--   template_messages           what the user and the builder said, in order (GET session/{id}).
--   template_drafts             every version of the draft, append-only: the builder's own draft, the
--                               Meta creation payload made from it and the validator's verdict.
--   template_memory             what the builder has learnt (category, language, business type,
--                               wants_header/footer/buttons, ...), one row per key.
--   template_submissions        a draft version sent to Meta: Meta's template id and review status.
--   template_status_events      Meta's message_template_status_update events as received.
--
-- LLM requests and responses live in public.llm_calls (purpose 'template', subject_id = session id).
-- Edge functions write through the service role (which bypasses RLS); members of an organisation
-- read their own rows. Functions here are for the service role; execute is revoked from public.

-- ---------------------------------------------------------------------------------------------
-- Per-organisation WhatsApp Business Account
-- ---------------------------------------------------------------------------------------------
create table public.whatsapp_template_accounts (
  org_id uuid primary key references public.orgs (id) on delete cascade,
  -- The WABA id from Meta's Business Manager: digits only (it goes into a URL path).
  waba_id text not null check (waba_id ~ '^[0-9]{5,30}$'),
  -- A system-user access token with whatsapp_business_management. Never readable by members.
  access_token text not null check (length(access_token) between 20 and 2048 and access_token !~ '\s'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create trigger whatsapp_template_accounts_touch before update on public.whatsapp_template_accounts
  for each row execute function public.touch_updated_at();
-- Not audited with enable_audit(): the trail would copy the token into audit_logs, readable by
-- whoever reads the trail.
comment on column public.whatsapp_template_accounts.access_token is
  'Graph API token. Writable by members, never readable by them (column privileges); the template-builder function reads it as the service role.';

-- ---------------------------------------------------------------------------------------------
-- Sessions, messages, drafts, memory
-- ---------------------------------------------------------------------------------------------
create table public.template_sessions (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.orgs (id) on delete cascade,
  -- gathering: questions remain; review: a complete draft awaits confirmation; final: the payload is
  -- ready (and may be submitted).
  state text not null default 'gathering' check (state in ('gathering', 'review', 'final')),
  -- guided: the deterministic flow (no LLM key); llm: structured output from the model.
  mode text not null check (mode in ('guided', 'llm')),
  -- Turns taken; a turn is saved only if nobody saved another since it was read (record_template_turn).
  turns int not null default 0 check (turns >= 0),
  last_action text check (length(last_action) <= 100),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- Lets child tables prove with a foreign key that they belong to the session's organisation.
  constraint template_sessions_id_org_unique unique (id, org_id)
);
create index template_sessions_org_idx on public.template_sessions (org_id, updated_at desc);
create trigger template_sessions_touch before update on public.template_sessions
  for each row execute function public.touch_updated_at();

create table public.template_messages (
  id bigint generated always as identity primary key,
  session_id uuid not null,
  org_id uuid not null,
  turn int not null check (turn >= 1),
  role text not null check (role in ('user', 'assistant')),
  content text not null check (length(content) between 1 and 8000),
  -- The session's state after this message (assistant messages), so a UI can replay the progress.
  state text check (state in ('gathering', 'review', 'final')),
  created_at timestamptz not null default now(),
  foreign key (session_id, org_id) references public.template_sessions (id, org_id) on delete cascade,
  -- One user and one assistant message per turn: a retried save cannot duplicate a turn.
  constraint template_messages_turn_unique unique (session_id, turn, role)
);

create table public.template_drafts (
  session_id uuid not null,
  org_id uuid not null,
  version int not null check (version >= 1),
  -- The builder's draft (its own shape: functions/_shared/templates/draft.ts).
  draft jsonb not null check (jsonb_typeof(draft) = 'object'),
  -- The Meta creation payload made from it.
  payload jsonb not null check (jsonb_typeof(payload) = 'object'),
  -- The validator's answer for that payload: {"valid", "errors", "warnings"}.
  validation jsonb not null check (jsonb_typeof(validation) = 'object'),
  -- Who produced this version.
  source text not null check (source in ('guided', 'llm')),
  created_at timestamptz not null default now(),
  primary key (session_id, version),
  foreign key (session_id, org_id) references public.template_sessions (id, org_id) on delete cascade
);
comment on table public.template_drafts is
  'Every version of every draft, append-only (no UPDATE for anyone; rows leave with their session).';

create table public.template_memory (
  session_id uuid not null,
  org_id uuid not null,
  key text not null check (key ~ '^[a-z][a-z0-9_]{0,62}$'),
  value jsonb not null,
  updated_at timestamptz not null default now(),
  primary key (session_id, key),
  foreign key (session_id, org_id) references public.template_sessions (id, org_id) on delete cascade
);

-- ---------------------------------------------------------------------------------------------
-- Submissions and Meta's review
-- ---------------------------------------------------------------------------------------------
create table public.template_submissions (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.orgs (id) on delete cascade,
  session_id uuid,
  draft_version int not null,
  waba_id text not null,
  name text not null,
  language text not null,
  category text not null,
  payload jsonb not null,
  -- SUBMITTING while the request to Meta is in flight, FAILED when Meta refused it (error holds
  -- Meta's code, subcode and user message), else Meta's status: PENDING, APPROVED, REJECTED, ...
  status text not null default 'SUBMITTING' check (status in (
    'SUBMITTING', 'FAILED', 'PENDING', 'APPROVED', 'REJECTED', 'PAUSED', 'DISABLED', 'IN_APPEAL',
    'PENDING_DELETION', 'DELETED', 'ARCHIVED', 'FLAGGED', 'LIMIT_EXCEEDED', 'LOCKED', 'REINSTATED', 'UNARCHIVED')),
  meta_template_id text check (meta_template_id ~ '^[0-9]{1,40}$'),
  -- Meta's category after review (it may re-categorise UTILITY as MARKETING).
  meta_category text,
  -- REJECTED: Meta's reason (INVALID_FORMAT, PROMOTIONAL, ...) and, for INVALID_FORMAT, its text.
  rejection_reason text,
  rejection_detail jsonb,
  error jsonb check (error is null or jsonb_typeof(error) = 'object'),
  submitted_at timestamptz not null default now(),
  status_updated_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (session_id, org_id) references public.template_sessions (id, org_id) on delete set null (session_id),
  -- One submission per draft version: a double click or a retried request finds the first one.
  constraint template_submissions_version_unique unique (session_id, draft_version),
  -- Meta's id names one template: its status updates land on exactly one row.
  constraint template_submissions_meta_id_unique unique (meta_template_id),
  -- A template Meta accepted has its id.
  constraint template_submissions_meta_id_present check (
    status in ('SUBMITTING', 'FAILED') or meta_template_id is not null)
);
create index template_submissions_org_idx on public.template_submissions (org_id, created_at desc);
create trigger template_submissions_touch before update on public.template_submissions
  for each row execute function public.touch_updated_at();

create table public.template_status_events (
  id bigint generated always as identity primary key,
  org_id uuid references public.orgs (id) on delete cascade,
  submission_id uuid references public.template_submissions (id) on delete set null,
  waba_id text,
  meta_template_id text not null,
  event text not null check (length(event) between 1 and 40),
  reason text,
  value jsonb not null check (jsonb_typeof(value) = 'object'),
  -- Meta retries a delivery for up to 7 days and gives status events no id: the same change from the
  -- same WABA is the same event, so its hash is the key a retry cannot add a second row under. (An
  -- event that reaches both webhook routes is logged once per route; applying a status twice is harmless.)
  dedupe_key text not null unique,
  received_at timestamptz not null default now()
);
create index template_status_events_template_idx on public.template_status_events (meta_template_id, received_at);

-- ---------------------------------------------------------------------------------------------
-- What the template-builder function calls, one round trip each
-- ---------------------------------------------------------------------------------------------

-- A session as the builder and GET session/{id} need it: the session, its memory as one object,
-- its latest draft version (or null), its messages in order and its submissions. Null when the
-- session does not exist in that organisation.
-- Who may call: the service role. Changes nothing.
create or replace function public.template_session_state(p_session uuid, p_org uuid)
returns jsonb
language sql stable
set search_path = ''
as $$
  select jsonb_build_object(
    'session', to_jsonb(s),
    'memory', coalesce((select jsonb_object_agg(m.key, m.value) from public.template_memory m
                        where m.session_id = s.id), '{}'::jsonb),
    'draft', (select to_jsonb(d) from public.template_drafts d
              where d.session_id = s.id order by d.version desc limit 1),
    'messages', coalesce((select jsonb_agg(jsonb_build_object('turn', x.turn, 'role', x.role, 'content', x.content,
                                                              'state', x.state, 'created_at', x.created_at)
                                           order by x.turn, x.role desc)
                          from public.template_messages x where x.session_id = s.id), '[]'::jsonb),
    'submissions', coalesce((select jsonb_agg(jsonb_build_object(
                               'id', t.id, 'draft_version', t.draft_version, 'status', t.status,
                               'meta_template_id', t.meta_template_id, 'rejection_reason', t.rejection_reason,
                               'error', t.error, 'submitted_at', t.submitted_at,
                               'status_updated_at', t.status_updated_at) order by t.created_at)
                             from public.template_submissions t where t.session_id = s.id), '[]'::jsonb))
  from public.template_sessions s
  where s.id = p_session and s.org_id = p_org
$$;
revoke execute on function public.template_session_state(uuid, uuid) from public;
grant execute on function public.template_session_state(uuid, uuid) to service_role;

-- Saves one turn: the user's message and the builder's reply, a new draft version when the draft
-- or payload changed, the memory keys given (a JSON null deletes a key), the state and last action.
-- p_expected_turns is the turn count the caller read: if another turn was saved meanwhile (two tabs,
-- a retried request), nothing is written and 40001 is raised, so the caller answers 409 rather than
-- overwrite a state it never saw. The session row is locked for the duration, which serialises
-- concurrent saves of the same session.
-- Who may call: the service role. Changes template_sessions, template_messages, template_drafts,
-- template_memory. Returns {"turn", "version"} (version: the latest draft version, or null).
create or replace function public.record_template_turn(
  p_session uuid, p_org uuid, p_expected_turns int,
  p_user_message text, p_reply text, p_state text,
  p_draft jsonb, p_payload jsonb, p_validation jsonb, p_source text,
  p_memory jsonb, p_last_action text)
returns jsonb
language plpgsql volatile
set search_path = ''
as $$
declare
  v_turns int;
  v_latest public.template_drafts;
  v_version int;
begin
  select s.turns into v_turns from public.template_sessions s
    where s.id = p_session and s.org_id = p_org
    for update;
  if not found then
    raise exception 'record_template_turn: no such session' using errcode = 'P0002';
  end if;
  if v_turns <> p_expected_turns then
    raise exception 'record_template_turn: the session moved on (turn % saved meanwhile)', v_turns
      using errcode = '40001';
  end if;

  insert into public.template_messages (session_id, org_id, turn, role, content, state) values
    (p_session, p_org, v_turns + 1, 'user', p_user_message, null),
    (p_session, p_org, v_turns + 1, 'assistant', p_reply, p_state);

  select d.* into v_latest from public.template_drafts d
    where d.session_id = p_session order by d.version desc limit 1;
  v_version := v_latest.version;
  if p_draft is not null and (v_latest.version is null or v_latest.draft is distinct from p_draft
                              or v_latest.payload is distinct from p_payload) then
    v_version := coalesce(v_latest.version, 0) + 1;
    insert into public.template_drafts (session_id, org_id, version, draft, payload, validation, source)
    values (p_session, p_org, v_version, p_draft, p_payload, p_validation, p_source);
  end if;

  if p_memory is not null then
    delete from public.template_memory m
      where m.session_id = p_session
        and m.key in (select e.key from jsonb_each(p_memory) e where e.value = 'null'::jsonb);
    insert into public.template_memory (session_id, org_id, key, value)
      select p_session, p_org, e.key, e.value from jsonb_each(p_memory) e where e.value <> 'null'::jsonb
    on conflict (session_id, key) do update set value = excluded.value, updated_at = now();
  end if;

  update public.template_sessions
    set turns = v_turns + 1, state = p_state, last_action = p_last_action
    where id = p_session;
  return jsonb_build_object('turn', v_turns + 1, 'version', v_version);
end
$$;
revoke execute on function public.record_template_turn(uuid, uuid, int, text, text, text, jsonb, jsonb, jsonb, text, jsonb, text) from public;
grant execute on function public.record_template_turn(uuid, uuid, int, text, text, text, jsonb, jsonb, jsonb, text, jsonb, text) to service_role;

-- Starts the submission of one draft version, or finds it: returns {"id", "status", "created",
-- "meta_template_id", "error"}. A version already submitted (in flight, accepted or reviewed) is
-- returned as it is, so a double click sends one request to Meta. A FAILED one (Meta refused it, or
-- the request never got an answer) is claimed again and set back to SUBMITTING, so a fixed account
-- or a transient failure can be retried; so is a SUBMITTING row older than p_stale_seconds (a
-- function that died mid-request). The row lock (FOR UPDATE inside the upsert) means two concurrent
-- calls cannot both claim it.
-- Who may call: the service role. Changes template_submissions.
create or replace function public.begin_template_submission(
  p_session uuid, p_org uuid, p_version int, p_waba_id text, p_payload jsonb,
  p_now timestamptz default now(), p_stale_seconds int default 120)
returns jsonb
language plpgsql volatile
set search_path = ''
as $$
declare
  v_row public.template_submissions;
  v_created boolean := false;
begin
  insert into public.template_submissions as t
    (org_id, session_id, draft_version, waba_id, name, language, category, payload, submitted_at)
  values (p_org, p_session, p_version, p_waba_id, coalesce(p_payload ->> 'name', ''),
          coalesce(p_payload ->> 'language', ''), upper(coalesce(p_payload ->> 'category', '')), p_payload, p_now)
  on conflict (session_id, draft_version) do update
    set status = 'SUBMITTING', error = null, waba_id = excluded.waba_id, submitted_at = p_now
    where t.status = 'FAILED'
       or (t.status = 'SUBMITTING' and t.submitted_at < p_now - make_interval(secs => p_stale_seconds))
  returning t.* into v_row;
  if found then
    v_created := true;
  else
    select t.* into v_row from public.template_submissions t
      where t.session_id = p_session and t.draft_version = p_version;
  end if;
  return jsonb_build_object('id', v_row.id, 'status', v_row.status, 'created', v_created,
                            'meta_template_id', v_row.meta_template_id, 'error', v_row.error);
end
$$;
revoke execute on function public.begin_template_submission(uuid, uuid, int, text, jsonb, timestamptz, int) from public;
grant execute on function public.begin_template_submission(uuid, uuid, int, text, jsonb, timestamptz, int) to service_role;

-- Records Meta's answer to a submission: its template id, status and category, or the error.
-- Who may call: the service role. Changes one template_submissions row (only while SUBMITTING).
create or replace function public.finish_template_submission(
  p_id uuid, p_meta_template_id text, p_status text, p_category text, p_error jsonb,
  p_now timestamptz default now())
returns jsonb
language sql volatile
set search_path = ''
as $$
  update public.template_submissions t
    set meta_template_id = coalesce(p_meta_template_id, t.meta_template_id),
        status = p_status,
        meta_category = coalesce(p_category, t.meta_category),
        error = p_error,
        status_updated_at = p_now
    where t.id = p_id and t.status = 'SUBMITTING'
  returning jsonb_build_object('id', t.id, 'status', t.status, 'meta_template_id', t.meta_template_id,
                               'meta_category', t.meta_category, 'error', t.error)
$$;
revoke execute on function public.finish_template_submission(uuid, text, text, text, jsonb, timestamptz) from public;
grant execute on function public.finish_template_submission(uuid, text, text, text, jsonb, timestamptz) to service_role;

-- Applies one message_template_status_update change value (Meta's webhook reference:
-- {event, message_template_id, message_template_name, message_template_language, reason,
-- rejection_info?, other_info?, disable_info?}) for the WABA that sent it (entry[].id; null when
-- unknown). Stores the event once (a retried delivery is a duplicate) and moves the submission with
-- that Meta id, if any, to the event's status. Events that are not statuses (FLAGGED's neighbours
-- are all statuses today) still land in the event log.
-- Who may call: the service role (the template-builder and whatsapp-webhook functions). Changes
-- template_status_events and one template_submissions row.
-- Returns {"matched", "duplicate", "submission_id", "org_id", "status"}.
create or replace function public.apply_template_status_update(
  p_waba_id text, p_value jsonb, p_now timestamptz default now())
returns jsonb
language plpgsql volatile
set search_path = ''
as $$
declare
  v_template_id text := p_value ->> 'message_template_id';
  v_event text := upper(p_value ->> 'event');
  v_reason text := nullif(p_value ->> 'reason', '');
  v_sub public.template_submissions;
  v_event_id bigint;
begin
  if v_template_id is null or v_template_id !~ '^[0-9]{1,40}$' or v_event is null or v_event !~ '^[A-Z_]{1,40}$' then
    raise exception 'apply_template_status_update: message_template_id and event are required' using errcode = '22023';
  end if;
  -- Only a submission of the WABA that sent the event: another account cannot move our rows.
  select t.* into v_sub from public.template_submissions t
    where t.meta_template_id = v_template_id and (p_waba_id is null or t.waba_id = p_waba_id)
    for update;

  insert into public.template_status_events
    (org_id, submission_id, waba_id, meta_template_id, event, reason, value, dedupe_key, received_at)
  values (v_sub.org_id, v_sub.id, p_waba_id, v_template_id, v_event, v_reason, p_value,
          md5(coalesce(p_waba_id, '') || ':' || p_value::text), p_now)
  on conflict (dedupe_key) do nothing
  returning id into v_event_id;
  if v_event_id is null then
    return jsonb_build_object('matched', v_sub.id is not null, 'duplicate', true,
                              'submission_id', v_sub.id, 'org_id', v_sub.org_id, 'status', v_sub.status);
  end if;
  if v_sub.id is null then
    return jsonb_build_object('matched', false, 'duplicate', false, 'submission_id', null, 'org_id', null,
                              'status', null);
  end if;

  update public.template_submissions t
    set status = case when v_event in ('PENDING', 'APPROVED', 'REJECTED', 'PAUSED', 'DISABLED', 'IN_APPEAL',
                                       'PENDING_DELETION', 'DELETED', 'ARCHIVED', 'FLAGGED', 'LIMIT_EXCEEDED',
                                       'LOCKED', 'REINSTATED', 'UNARCHIVED')
                      then v_event else t.status end,
        rejection_reason = case when v_event = 'REJECTED' then v_reason
                                when v_event in ('APPROVED', 'REINSTATED') then null
                                else t.rejection_reason end,
        rejection_detail = case when v_event = 'REJECTED' then p_value -> 'rejection_info'
                                when v_event in ('APPROVED', 'REINSTATED') then null
                                else t.rejection_detail end,
        meta_category = coalesce(p_value ->> 'message_template_category', t.meta_category),
        status_updated_at = p_now
    where t.id = v_sub.id
  returning t.* into v_sub;
  return jsonb_build_object('matched', true, 'duplicate', false, 'submission_id', v_sub.id,
                            'org_id', v_sub.org_id, 'status', v_sub.status);
end
$$;
revoke execute on function public.apply_template_status_update(text, jsonb, timestamptz) from public;
grant execute on function public.apply_template_status_update(text, jsonb, timestamptz) to service_role;

-- Drafts are append-only: a version once written is what was shown to the user.
-- Who may call: the trigger. Changes nothing; refuses the update.
create or replace function public.template_drafts_immutable() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  raise exception 'template_drafts are append-only: add a new version instead' using errcode = '42501';
end
$$;
create trigger template_drafts_no_update before update on public.template_drafts
  for each row execute function public.template_drafts_immutable();

-- ---------------------------------------------------------------------------------------------
-- Retention: builder sessions nobody touched for 90 days go, with their messages, drafts and
-- memory; their submissions stay (unlinked), since they describe templates that exist at Meta.
-- ---------------------------------------------------------------------------------------------
-- Who may call: run_maintenance_tasks() (service role, pg_cron). Changes template_sessions (and
-- its children through their foreign keys). Deletes at most c_batch sessions per run; returns how
-- many. p_now: the run's clock (tests shift it).
create or replace function public.cleanup_idle_template_sessions(p_now timestamptz default now())
returns bigint
language plpgsql volatile
set search_path = ''
as $$
declare
  c_batch constant int := 500;
  c_idle constant interval := interval '90 days';
  v_n bigint;
begin
  with doomed as (
    select s.id from public.template_sessions s
    where s.updated_at < p_now - c_idle
    order by s.updated_at
    limit c_batch
    -- A session being saved right now is skipped rather than waited for.
    for update skip locked
  )
  delete from public.template_sessions s using doomed where s.id = doomed.id;
  get diagnostics v_n = row_count;
  return v_n;
end
$$;
revoke execute on function public.cleanup_idle_template_sessions(timestamptz) from public;
grant execute on function public.cleanup_idle_template_sessions(timestamptz) to service_role;

insert into public.maintenance_tasks (name, position, call, analyzed_table, requires_function) values
  ('idle_template_sessions', 70, 'select public.cleanup_idle_template_sessions($1)', 'public.template_sessions', null)
on conflict (name) do update set call = excluded.call, analyzed_table = excluded.analyzed_table;

-- ---------------------------------------------------------------------------------------------
-- Row-level security and privileges
-- ---------------------------------------------------------------------------------------------
alter table public.whatsapp_template_accounts enable row level security;
alter table public.template_sessions enable row level security;
alter table public.template_messages enable row level security;
alter table public.template_drafts enable row level security;
alter table public.template_memory enable row level security;
alter table public.template_submissions enable row level security;
alter table public.template_status_events enable row level security;

create policy whatsapp_template_accounts_member on public.whatsapp_template_accounts for all to authenticated
  using (org_id in (select public.user_org_ids())) with check (org_id in (select public.user_org_ids()));
create policy template_sessions_member_read on public.template_sessions for select to authenticated
  using (org_id in (select public.user_org_ids()));
create policy template_messages_member_read on public.template_messages for select to authenticated
  using (org_id in (select public.user_org_ids()));
create policy template_drafts_member_read on public.template_drafts for select to authenticated
  using (org_id in (select public.user_org_ids()));
create policy template_memory_member_read on public.template_memory for select to authenticated
  using (org_id in (select public.user_org_ids()));
create policy template_submissions_member_read on public.template_submissions for select to authenticated
  using (org_id in (select public.user_org_ids()));
create policy template_status_events_member_read on public.template_status_events for select to authenticated
  using (org_id in (select public.user_org_ids()));

-- Start from nothing (Supabase's default privileges grant everything to anon and authenticated).
-- Members read their organisation's builder data; they write it only through the function. The
-- token column can be written (set, rotate) but never selected, which also refuses a WHERE clause
-- that would probe it.
revoke all on public.whatsapp_template_accounts, public.template_sessions, public.template_messages,
  public.template_drafts, public.template_memory, public.template_submissions,
  public.template_status_events from anon, authenticated;
grant select (org_id, waba_id, created_at, updated_at) on public.whatsapp_template_accounts to authenticated;
grant insert (org_id, waba_id, access_token) on public.whatsapp_template_accounts to authenticated;
grant update (waba_id, access_token) on public.whatsapp_template_accounts to authenticated;
grant delete on public.whatsapp_template_accounts to authenticated;
grant select on public.template_sessions, public.template_messages, public.template_drafts,
  public.template_memory, public.template_submissions, public.template_status_events to authenticated;
grant all on public.whatsapp_template_accounts, public.template_sessions, public.template_messages,
  public.template_memory, public.template_submissions, public.template_status_events to service_role;
-- Drafts: the service role adds versions; nobody updates them (the trigger refuses it too).
grant select, insert, delete on public.template_drafts to service_role;
grant usage, select on all sequences in schema public to service_role;
