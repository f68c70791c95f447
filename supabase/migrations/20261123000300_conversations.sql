-- Conversations and messages: every exchange with a customer, whatever the channel, as one row with
-- a status the database guards, plus its messages. Adds:
--   * conversations: status lifecycle bot -> queued -> agent -> resolved (with a resolution reason),
--     timestamps and per-conversation counters that only triggers write;
--   * messages: one row per message, replay-safe through the provider's message id;
--   * conversation_daily_metrics: a per-organisation, per-day rollup that dashboards read instead of
--     scanning messages;
--   * call_records.conversation_id: every Telnyx call.conversation.ended event becomes (or closes)
--     a phone conversation, so calls and chats are reported together.
-- Why in SQL: the webhook functions, the dashboard and the SQL console all write these rows; rules
-- that must hold whoever writes (transitions, timestamps, counters) are triggers.
--
-- Reopening, decided here: a customer message written after a conversation was resolved reopens it
-- in status 'bot' (the assistant answers first again and may hand off), clearing resolved_at and
-- resolution_reason. Not reopened: phone conversations (a new call is a new conversation) and
-- messages whose created_at is not later than resolved_at (a late transcript or a replayed event
-- belongs to the conversation as it was). One exception: a conversation closed as 'abandoned' was
-- closed only because the customer went quiet, so any customer message reopens it, whatever its
-- timestamp (this also covers a message that was being written while the sweep closed it).
-- Staff can reopen by hand to 'bot' or 'queued'.

-- ---------------------------------------------------------------------------------------------
-- Status rules
-- ---------------------------------------------------------------------------------------------

-- The allowed status changes, in one place (the trigger below and any caller that wants to grey out
-- a button use it):
--   bot      -> queued (handoff requested), agent (taken directly), resolved
--   queued   -> agent (an agent takes it), resolved
--   agent    -> queued (released or transferred), resolved
--   resolved -> bot, queued (reopened)
-- agent -> bot and queued -> bot are refused: once a person has been asked for, the bot does not
-- take the conversation back silently; resolved -> agent goes through the queue.
-- Who may call: anyone. Changes nothing.
create or replace function public.conversation_transition_allowed(p_from text, p_to text) returns boolean
language sql immutable parallel safe
set search_path = ''
as $$
  select p_from = p_to or (p_from, p_to) in (
    ('bot', 'queued'), ('bot', 'agent'), ('bot', 'resolved'),
    ('queued', 'agent'), ('queued', 'resolved'),
    ('agent', 'queued'), ('agent', 'resolved'),
    ('resolved', 'bot'), ('resolved', 'queued'))
$$;
grant execute on function public.conversation_transition_allowed(text, text) to anon, authenticated, service_role;

create table public.conversations (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.orgs (id) on delete cascade,
  channel text not null,
  -- The provider's id for the thread: Telnyx conversation/call session id, WhatsApp thread, widget
  -- session. Null when the provider has none.
  external_id text,
  client_id uuid,
  -- E.164 when the channel gives a phone number.
  customer_phone text,
  status text not null default 'bot',
  -- 0 low, 1 normal, 2 high, 3 urgent: queues sort on it descending.
  priority smallint not null default 1,
  -- The human agent handling it; agents arrive in a later migration, which adds the foreign key.
  assigned_agent_id uuid,
  summary text,
  metadata jsonb not null default '{}'::jsonb,
  -- Kept by triggers (see update_conversation_metrics and enforce_conversation_status):
  last_activity_at timestamptz not null default now(),
  last_customer_message_at timestamptz,
  resolved_at timestamptz,
  resolution_reason text,
  -- Counters: messages ever written by each sender. Pruning old messages leaves them as they are.
  customer_message_count int not null default 0,
  bot_message_count int not null default 0,
  agent_message_count int not null default 0,
  system_message_count int not null default 0,
  first_customer_message_at timestamptz,
  -- The first bot or agent message after the first customer message.
  first_response_at timestamptz,
  first_response_seconds double precision
    generated always as (extract(epoch from first_response_at - first_customer_message_at)) stored,
  resolution_seconds double precision
    generated always as (extract(epoch from resolved_at - created_at)) stored,
  -- Set when cleanup_old_messages() has removed this conversation's messages; cleared by a new message.
  messages_purged_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),

  constraint conversations_channel_valid
    check (channel in ('phone', 'web', 'whatsapp', 'sms', 'email')),
  constraint conversations_status_valid
    check (status in ('bot', 'queued', 'agent', 'resolved')),
  constraint conversations_resolution_reason_valid
    check (resolution_reason in ('completed', 'call_ended', 'abandoned', 'expired')),
  constraint conversations_resolution_consistent
    check ((status = 'resolved') = (resolved_at is not null)
       and (status = 'resolved') = (resolution_reason is not null)),
  constraint conversations_priority_valid check (priority between 0 and 3),
  constraint conversations_metadata_object check (jsonb_typeof(metadata) = 'object'),
  constraint conversations_counts_nonnegative
    check (least(customer_message_count, bot_message_count, agent_message_count, system_message_count) >= 0),
  constraint conversations_first_response_order
    check (first_response_at is null or first_response_at >= first_customer_message_at),
  -- A provider thread maps to one conversation per organisation and channel: replays find it again.
  constraint conversations_external_unique unique (org_id, channel, external_id),
  -- Lets messages prove with a foreign key that they belong to the same organisation.
  constraint conversations_id_org_unique unique (id, org_id),
  -- The customer must be a client of the same organisation; deleting the client keeps the conversation.
  constraint conversations_client_fk foreign key (client_id, org_id)
    references public.clients (id, org_id) on delete set null (client_id)
);

comment on table public.conversations is
  'One exchange with a customer on one channel. Status, timestamps and counters are kept by triggers.';
comment on column public.conversations.status is
  'bot -> queued -> agent -> resolved; see conversation_transition_allowed() for every allowed change.';
comment on column public.conversations.resolution_reason is
  'Why it was resolved: completed, call_ended, abandoned (no activity, see cleanup_abandoned_conversations) or expired.';
comment on constraint conversations_resolution_consistent on public.conversations is
  'resolved_at and resolution_reason are set exactly when the status is resolved.';
comment on constraint conversations_external_unique on public.conversations is
  'One conversation per provider thread, organisation and channel: a replayed event finds the same row.';

-- Serves cleanup_abandoned_conversations(): open conversations by organisation, oldest activity first.
create index conversations_open_idle_idx on public.conversations (org_id, last_activity_at)
  where status in ('bot', 'queued');
-- Serves cleanup_old_messages(): resolved conversations whose messages are still there. Once pruned a
-- conversation leaves this index, so a run with nothing to prune reads almost nothing.
create index conversations_unpurged_idx on public.conversations (org_id, resolved_at)
  where status = 'resolved' and messages_purged_at is null;
-- Serves the on-delete-set-null from clients and "this client's conversations".
create index conversations_client_idx on public.conversations (client_id) where client_id is not null;

create table public.messages (
  id bigint generated always as identity primary key,
  conversation_id uuid not null,
  org_id uuid not null,
  sender_type text not null,
  body text not null,
  -- The provider's id (WhatsApp wamid, Telnyx message id, ...). Null for messages we originate.
  provider_message_id text,
  metadata jsonb not null default '{}'::jsonb,
  -- When the message was sent; a writer may give the provider's timestamp.
  created_at timestamptz not null default now(),

  constraint messages_sender_type_valid check (sender_type in ('customer', 'bot', 'agent', 'system')),
  constraint messages_metadata_object check (jsonb_typeof(metadata) = 'object'),
  -- A redelivered provider message is stored once: `on conflict do nothing` makes replays harmless.
  constraint messages_provider_unique unique (org_id, provider_message_id),
  -- Same organisation as its conversation, proven by the key.
  constraint messages_conversation_fk foreign key (conversation_id, org_id)
    references public.conversations (id, org_id) on delete cascade
);
comment on table public.messages is
  'Messages of a conversation. Old ones are deleted by cleanup_old_messages(); the conversation keeps its counters.';
comment on constraint messages_provider_unique on public.messages is
  'A provider message id is stored once per organisation, so replayed webhooks insert nothing.';

-- Serves reading a conversation in order, the foreign key cascade and pruning by conversation.
create index messages_conversation_idx on public.messages (conversation_id, created_at);

-- Per organisation, day (in the organisation's timezone) and channel. Written only by triggers.
-- Averages are totals divided by counts: first_response_seconds_total / first_responses,
-- resolution_seconds_total / conversations_resolved.
create table public.conversation_daily_metrics (
  org_id uuid not null references public.orgs (id) on delete cascade,
  day date not null,
  channel text not null,
  conversations_started int not null default 0,
  -- Resolutions on that day (a reopened conversation resolved again counts again), by reason too.
  conversations_resolved int not null default 0,
  conversations_abandoned int not null default 0,
  conversations_expired int not null default 0,
  customer_messages int not null default 0,
  bot_messages int not null default 0,
  agent_messages int not null default 0,
  system_messages int not null default 0,
  first_responses int not null default 0,
  first_response_seconds_total double precision not null default 0,
  resolution_seconds_total double precision not null default 0,
  primary key (org_id, day, channel)
);
comment on table public.conversation_daily_metrics is
  'Daily per-organisation rollup kept by triggers on conversations and messages; dashboards read it instead of messages.';

-- ---------------------------------------------------------------------------------------------
-- Triggers
-- ---------------------------------------------------------------------------------------------

-- Trigger on conversations (before insert when resolved, before update when the status changes).
-- Refuses a status change that conversation_transition_allowed() does not list, with SQLSTATE SB001
-- and message INVALID_STATUS_TRANSITION. Sets resolved_at (now() unless the writer gave one) and a
-- default reason 'completed' on entering 'resolved'; clears both on leaving it.
-- Who may call: the triggers only. Changes the row being written.
create or replace function public.enforce_conversation_status() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'UPDATE' then
    if not public.conversation_transition_allowed(old.status, new.status) then
      raise exception using
        errcode = 'SB001',
        message = 'INVALID_STATUS_TRANSITION',
        detail = format('conversation %s cannot go from %s to %s', old.id, old.status, new.status),
        hint = 'see public.conversation_transition_allowed()';
    end if;
    if old.status = 'resolved' and new.status <> 'resolved' then
      new.resolved_at := null;
      new.resolution_reason := null;
      return new;
    end if;
    if new.resolved_at is not distinct from old.resolved_at then
      new.resolved_at := null;  -- not given by the writer: the database stamps it below
    end if;
  end if;
  if new.status = 'resolved' then
    new.resolved_at := coalesce(new.resolved_at, now());
    new.resolution_reason := coalesce(new.resolution_reason, 'completed');
  end if;
  return new;
end
$$;
revoke execute on function public.enforce_conversation_status() from public, anon, authenticated, service_role;

create trigger conversations_status_insert before insert on public.conversations
  for each row when (new.status = 'resolved') execute function public.enforce_conversation_status();
create trigger conversations_status_update before update of status on public.conversations
  for each row when (old.status is distinct from new.status) execute function public.enforce_conversation_status();
create trigger conversations_touch before update on public.conversations
  for each row execute function public.touch_updated_at();

-- The metrics triggers below are statement-level with transition tables: a statement that writes
-- many rows (a transcript imported at once, a maintenance batch resolving 500 conversations) updates
-- each conversation and each rollup row once, with the sum. Row-level triggers would update the same
-- rollup row once per row inside one transaction, and each update must walk every earlier version
-- of that row: quadratic in the batch size.

-- Trigger on messages, after insert (once per statement): the one place messages change their
-- conversations, in one UPDATE per statement: last_activity_at, last_customer_message_at,
-- first_customer_message_at, first_response_at (the first bot or agent message at or after the
-- first customer message), the per-sender counters, messages_purged_at cleared, and the reopening
-- rule of this file's header. The same statement adds the messages to the daily rollup.
-- security definer: a dashboard user may insert a message but may not write counters or the rollup.
-- Who may call: the trigger only. Changes conversations and conversation_daily_metrics.
create or replace function public.update_conversation_metrics() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  with batch as (
    select m.conversation_id,
      max(m.created_at) as last_at,
      max(m.created_at) filter (where m.sender_type = 'customer') as last_customer_at,
      min(m.created_at) filter (where m.sender_type = 'customer') as first_customer_at,
      array_agg(m.created_at) filter (where m.sender_type in ('bot', 'agent')) as response_times,
      count(*) filter (where m.sender_type = 'customer') as customer,
      count(*) filter (where m.sender_type = 'bot') as bot,
      count(*) filter (where m.sender_type = 'agent') as agent,
      count(*) filter (where m.sender_type = 'system') as system
    from new_messages m
    group by m.conversation_id
  ),
  touched as (
    update public.conversations c set
      last_activity_at = greatest(c.last_activity_at, b.last_at),
      last_customer_message_at = greatest(c.last_customer_message_at, b.last_customer_at),
      first_customer_message_at = least(c.first_customer_message_at, b.first_customer_at),
      first_response_at = coalesce(c.first_response_at,
        (select min(t) from unnest(b.response_times) t
         where t >= least(c.first_customer_message_at, b.first_customer_at))),
      customer_message_count = c.customer_message_count + b.customer,
      bot_message_count = c.bot_message_count + b.bot,
      agent_message_count = c.agent_message_count + b.agent,
      system_message_count = c.system_message_count + b.system,
      messages_purged_at = null,
      status = case
        when c.status = 'resolved' and c.channel <> 'phone'
          and (b.last_customer_at > c.resolved_at
               or (b.last_customer_at is not null and c.resolution_reason = 'abandoned')) then 'bot'
        else c.status end
    from batch b
    where c.id = b.conversation_id
    returning c.id, c.channel
  )
  insert into public.conversation_daily_metrics as d (org_id, day, channel,
    customer_messages, bot_messages, agent_messages, system_messages)
  select m.org_id, (m.created_at at time zone coalesce(o.timezone, 'UTC'))::date as day, t.channel,
    count(*) filter (where m.sender_type = 'customer'),
    count(*) filter (where m.sender_type = 'bot'),
    count(*) filter (where m.sender_type = 'agent'),
    count(*) filter (where m.sender_type = 'system')
  from new_messages m
  join touched t on t.id = m.conversation_id
  left join public.orgs o on o.id = m.org_id
  group by m.org_id, 2, t.channel
  order by m.org_id, 2, t.channel  -- rows locked in one order: concurrent writers cannot deadlock here
  on conflict (org_id, day, channel) do update set
    customer_messages = d.customer_messages + excluded.customer_messages,
    bot_messages = d.bot_messages + excluded.bot_messages,
    agent_messages = d.agent_messages + excluded.agent_messages,
    system_messages = d.system_messages + excluded.system_messages;
  return null;
end
$$;
revoke execute on function public.update_conversation_metrics() from public, anon, authenticated, service_role;

create trigger messages_update_conversation after insert on public.messages
  referencing new table as new_messages
  for each statement execute function public.update_conversation_metrics();

-- Trigger on conversations, after insert or update (once per statement): counts in
-- conversation_daily_metrics, each on the day it happened in the organisation's timezone, the
-- conversations started (inserted), resolved (entering 'resolved', by reason, with the time since
-- creation) and first responses (first_response_at set, with the delay). A reopened conversation
-- resolved again counts again.
-- Who may call: the trigger only. Changes conversation_daily_metrics.
create or replace function public.rollup_conversation_metrics() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    insert into public.conversation_daily_metrics as d (org_id, day, channel, conversations_started,
      conversations_resolved, conversations_abandoned, conversations_expired, resolution_seconds_total,
      first_responses, first_response_seconds_total)
    select e.org_id, (e.at at time zone coalesce(o.timezone, 'UTC'))::date as day, e.channel,
      sum(e.started), sum(e.resolved), sum(e.abandoned), sum(e.expired), sum(e.resolution_seconds),
      sum(e.first_responses), sum(e.first_response_seconds)
    from (
      select n.org_id, n.channel, n.created_at as at, 1 as started, 0 as resolved, 0 as abandoned,
             0 as expired, 0::double precision as resolution_seconds, 0 as first_responses,
             0::double precision as first_response_seconds
        from new_conversations n
      union all
      select n.org_id, n.channel, n.resolved_at, 0, 1, (n.resolution_reason = 'abandoned')::int,
             (n.resolution_reason = 'expired')::int, greatest(coalesce(n.resolution_seconds, 0), 0), 0, 0
        from new_conversations n where n.status = 'resolved'
      union all
      select n.org_id, n.channel, n.first_response_at, 0, 0, 0, 0, 0, 1, coalesce(n.first_response_seconds, 0)
        from new_conversations n where n.first_response_at is not null
    ) e
    left join public.orgs o on o.id = e.org_id
    group by e.org_id, 2, e.channel
    order by e.org_id, 2, e.channel
    on conflict (org_id, day, channel) do update set
      conversations_started = d.conversations_started + excluded.conversations_started,
      conversations_resolved = d.conversations_resolved + excluded.conversations_resolved,
      conversations_abandoned = d.conversations_abandoned + excluded.conversations_abandoned,
      conversations_expired = d.conversations_expired + excluded.conversations_expired,
      resolution_seconds_total = d.resolution_seconds_total + excluded.resolution_seconds_total,
      first_responses = d.first_responses + excluded.first_responses,
      first_response_seconds_total = d.first_response_seconds_total + excluded.first_response_seconds_total;
  else
    insert into public.conversation_daily_metrics as d (org_id, day, channel,
      conversations_resolved, conversations_abandoned, conversations_expired, resolution_seconds_total,
      first_responses, first_response_seconds_total)
    select e.org_id, (e.at at time zone coalesce(o.timezone, 'UTC'))::date as day, e.channel,
      sum(e.resolved), sum(e.abandoned), sum(e.expired), sum(e.resolution_seconds),
      sum(e.first_responses), sum(e.first_response_seconds)
    from (
      select n.org_id, n.channel, n.resolved_at as at, 1 as resolved,
             (n.resolution_reason = 'abandoned')::int as abandoned, (n.resolution_reason = 'expired')::int as expired,
             greatest(coalesce(n.resolution_seconds, 0), 0) as resolution_seconds,
             0 as first_responses, 0::double precision as first_response_seconds
        from new_conversations n join old_conversations o on o.id = n.id
        where n.status = 'resolved' and o.status <> 'resolved'
      union all
      select n.org_id, n.channel, n.first_response_at, 0, 0, 0, 0, 1, coalesce(n.first_response_seconds, 0)
        from new_conversations n join old_conversations o on o.id = n.id
        where n.first_response_at is not null and o.first_response_at is null
    ) e
    left join public.orgs o on o.id = e.org_id
    group by e.org_id, 2, e.channel
    order by e.org_id, 2, e.channel
    on conflict (org_id, day, channel) do update set
      conversations_resolved = d.conversations_resolved + excluded.conversations_resolved,
      conversations_abandoned = d.conversations_abandoned + excluded.conversations_abandoned,
      conversations_expired = d.conversations_expired + excluded.conversations_expired,
      resolution_seconds_total = d.resolution_seconds_total + excluded.resolution_seconds_total,
      first_responses = d.first_responses + excluded.first_responses,
      first_response_seconds_total = d.first_response_seconds_total + excluded.first_response_seconds_total;
  end if;
  return null;
end
$$;
revoke execute on function public.rollup_conversation_metrics() from public, anon, authenticated, service_role;

create trigger conversations_rollup_insert after insert on public.conversations
  referencing new table as new_conversations
  for each statement execute function public.rollup_conversation_metrics();
create trigger conversations_rollup_update after update on public.conversations
  referencing old table as old_conversations new table as new_conversations
  for each statement execute function public.rollup_conversation_metrics();

-- ---------------------------------------------------------------------------------------------
-- Calls become phone conversations
-- ---------------------------------------------------------------------------------------------
alter table public.call_records
  add column conversation_id uuid references public.conversations (id) on delete set null;
create index call_records_conversation_idx on public.call_records (conversation_id)
  where conversation_id is not null;
comment on column public.call_records.conversation_id is
  'The phone conversation this call event ended; set by link_call_record_to_conversation().';

-- Trigger on call_records, after insert of a row with an organisation (a redelivered event inserts
-- nothing, so it changes nothing). Creates the phone conversation for the call, or closes the one
-- that already exists for it, as resolved with reason call_ended, and links the call record to it.
-- The thread id is provider_conversation_id, else call_session_id, else call_control_id (else the
-- event id, so a bare event still gets its own conversation). The caller becomes customer_phone in
-- E.164 and client_id when exactly one client of the organisation has that number.
-- Who may call: the trigger only. Changes conversations and call_records.conversation_id.
create or replace function public.link_call_record_to_conversation() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  v_external text := coalesce(nullif(new.provider_conversation_id, ''), nullif(new.call_session_id, ''),
                              nullif(new.call_control_id, ''), 'event:' || new.event_id);
  v_ended timestamptz := coalesce(new.occurred_at, now());
  v_phone text;
  v_clients uuid[];
  v_conversation uuid;
begin
  select coalesce(public.normalize_phone(new.caller, o.default_country), nullif(btrim(new.caller), ''))
    into v_phone
    from public.orgs o where o.id = new.org_id;
  select array_agg(c.id) into v_clients
    from (select c.id from public.clients c
          where c.org_id = new.org_id and c.phone_e164 = v_phone limit 2) c;

  insert into public.conversations as cv (org_id, channel, external_id, client_id, customer_phone,
      status, resolution_reason, resolved_at, last_activity_at, created_at, metadata)
  values (new.org_id, 'phone', v_external,
      case when cardinality(v_clients) = 1 then v_clients[1] end,
      v_phone, 'resolved', 'call_ended', v_ended, v_ended,
      coalesce(v_ended - make_interval(secs => new.duration_sec), v_ended),
      jsonb_strip_nulls(jsonb_build_object(
        'call_record_id', new.id, 'called', new.called, 'assistant_id', new.assistant_id,
        'duration_sec', new.duration_sec, 'end_reason', new.end_reason)))
  on conflict (org_id, channel, external_id) do update set
    status = 'resolved',
    resolution_reason = case when cv.status = 'resolved' then cv.resolution_reason else 'call_ended' end,
    resolved_at = case when cv.status = 'resolved' then cv.resolved_at else excluded.resolved_at end,
    last_activity_at = greatest(cv.last_activity_at, excluded.last_activity_at),
    client_id = coalesce(cv.client_id, excluded.client_id),
    customer_phone = coalesce(cv.customer_phone, excluded.customer_phone),
    metadata = cv.metadata || excluded.metadata
  returning cv.id into v_conversation;

  update public.call_records r set conversation_id = v_conversation where r.id = new.id;
  return null;
end
$$;
revoke execute on function public.link_call_record_to_conversation() from public, anon, authenticated, service_role;

create trigger call_records_conversation after insert on public.call_records
  for each row when (new.org_id is not null) execute function public.link_call_record_to_conversation();

-- ---------------------------------------------------------------------------------------------
-- Row-level security: members see and write their organisations' conversations and messages; the
-- rollup is read-only. Column grants keep trigger-owned columns (timestamps, counters) out of reach.
-- ---------------------------------------------------------------------------------------------
alter table public.conversations enable row level security;
alter table public.messages enable row level security;
alter table public.conversation_daily_metrics enable row level security;

create policy conversations_member_read on public.conversations for select to authenticated
  using (org_id in (select public.user_org_ids()));
create policy conversations_member_insert on public.conversations for insert to authenticated
  with check (org_id in (select public.user_org_ids()));
create policy conversations_member_update on public.conversations for update to authenticated
  using (org_id in (select public.user_org_ids())) with check (org_id in (select public.user_org_ids()));
create policy messages_member_read on public.messages for select to authenticated
  using (org_id in (select public.user_org_ids()));
create policy messages_member_insert on public.messages for insert to authenticated
  with check (org_id in (select public.user_org_ids()));
create policy conversation_daily_metrics_member_read on public.conversation_daily_metrics
  for select to authenticated using (org_id in (select public.user_org_ids()));

-- Supabase grants everything on new tables to anon and authenticated by default; start from nothing.
revoke all on public.conversations, public.messages, public.conversation_daily_metrics from anon, authenticated;
grant select on public.conversations, public.messages, public.conversation_daily_metrics to authenticated;
grant insert (org_id, channel, external_id, client_id, customer_phone, status, priority, assigned_agent_id,
  summary, metadata, resolution_reason) on public.conversations to authenticated;
grant update (client_id, customer_phone, status, priority, assigned_agent_id, summary, metadata,
  resolution_reason) on public.conversations to authenticated;
grant insert (conversation_id, org_id, sender_type, body, provider_message_id, metadata)
  on public.messages to authenticated;
grant select, insert, update, delete on public.conversations, public.messages to service_role;
grant select on public.conversation_daily_metrics to service_role;
