-- The conversation pipeline's state in SQL: every channel stores the customer's message first, then
-- the bot (or the human who owns the conversation) decides, runs actions and queues replies.
-- Adds:
--   * inbound_jobs: one row per customer message still to be answered. Stored in the same statement
--     as the message, deleted in the same transaction as the replies: a message is answered once,
--     and a message whose worker died (an isolate killed after the 200) is found again by the sweep;
--   * bot_memory: the bot's working memory per conversation (a callback being collected, ...),
--     dropped after an action and after the organisation's idle timeout (30 minutes by default);
--   * conversation_actions: what the bot or a person did (hand-over, callback, close), in order;
--   * callbacks: one row per callback, at most one scheduled per conversation (a unique index: the
--     button, the LLM and a replayed webhook asking together still make one);
--   * SQL functions for each step, one round trip each.
-- The outbox (everything sent to a customer's channel) is the next migration.

-- ---------------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------------
create table public.inbound_jobs (
  message_id bigint primary key references public.messages (id) on delete cascade,
  org_id uuid not null references public.orgs (id) on delete cascade,
  conversation_id uuid not null,
  attempts int not null default 0,
  -- Set by a claim; the worker must present it to complete the job. A new claim (after the lease
  -- ran out) replaces it, so a slow worker that comes back late cannot write a second answer.
  lease_token uuid,
  locked_until timestamptz,
  -- Jobs that failed too often stop being retried and stay visible here (and in /health/detailed).
  dead_at timestamptz,
  last_error text,
  created_at timestamptz not null default now(),
  foreign key (conversation_id, org_id) references public.conversations (id, org_id) on delete cascade
);
comment on table public.inbound_jobs is
  'Customer messages not answered yet. A row disappears in the transaction that stores the answer.';
-- Serves claims (oldest job of a conversation) and the sweep (jobs nobody is working on).
create index inbound_jobs_conversation_idx on public.inbound_jobs (conversation_id, message_id);
create index inbound_jobs_due_idx on public.inbound_jobs (created_at) where dead_at is null;

create table public.bot_memory (
  conversation_id uuid primary key,
  org_id uuid not null,
  state jsonb not null default '{}'::jsonb,
  updated_at timestamptz not null default now(),
  constraint bot_memory_state_object check (jsonb_typeof(state) = 'object'),
  foreign key (conversation_id, org_id) references public.conversations (id, org_id) on delete cascade
);
comment on table public.bot_memory is
  'The bot''s working memory per conversation. Dropped after an action and by expire_bot_memory().';
create index bot_memory_idle_idx on public.bot_memory (updated_at);

create table public.conversation_actions (
  id bigint generated always as identity primary key,
  org_id uuid not null,
  conversation_id uuid not null,
  type text not null,
  -- Who asked: a button, the LLM, the rule-based brain, a person, the API, the system.
  source text not null,
  -- The customer message that led to it, when there was one.
  message_id bigint,
  -- False when the action was already done (a second hand-over request, a duplicate callback).
  changed boolean not null default true,
  details jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  constraint conversation_actions_source_valid check (source in ('button', 'llm', 'rules', 'agent', 'api', 'system')),
  constraint conversation_actions_type_format check (type ~ '^[a-z][a-z_]*$'),
  foreign key (conversation_id, org_id) references public.conversations (id, org_id) on delete cascade
);
comment on table public.conversation_actions is
  'Actions on a conversation in order: hand-over, callback, close (and, later, agents'' actions).';
create index conversation_actions_conversation_idx on public.conversation_actions (conversation_id, id);

create table public.callbacks (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null,
  conversation_id uuid not null,
  status text not null default 'scheduled',
  scheduled_for timestamptz not null,
  -- The zone the customer's words were read in; scheduled_for is shown to people in it.
  timezone text not null,
  phone text not null,
  subject text not null,
  description text not null,
  -- What the customer said about the time, as they said it.
  requested_text text,
  customer_name text,
  customer_email text,
  source text not null,
  -- Who carries the callback out: 'stored' (kept here for staff) until a CRM provider is set up.
  provider text not null default 'stored',
  provider_ref text,
  provider_status text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint callbacks_status_valid check (status in ('scheduled', 'completed', 'cancelled', 'failed')),
  constraint callbacks_phone_e164 check (phone ~ '^\+[1-9][0-9]{6,14}$'),
  -- "Callback: <the actual issue>", never an empty or placeholder subject.
  constraint callbacks_subject_shape check (subject ~ '^Callback: \S' and subject !~* '(^|\W)(none|null|undefined)(\W|$)'),
  constraint callbacks_source_valid check (source in ('button', 'llm', 'rules', 'agent', 'api')),
  constraint callbacks_id_org_unique unique (id, org_id),
  foreign key (conversation_id, org_id) references public.conversations (id, org_id) on delete cascade
);
comment on table public.callbacks is 'Callbacks customers asked for, one row each.';
-- One scheduled callback per conversation: the button, the LLM and a replayed webhook asking at the
-- same time create one row; the later askers get that row back.
create unique index callbacks_one_scheduled_per_conversation on public.callbacks (conversation_id)
  where status = 'scheduled';
create index callbacks_org_due_idx on public.callbacks (org_id, scheduled_for) where status = 'scheduled';
create trigger callbacks_touch before update on public.callbacks
  for each row execute function public.touch_updated_at();

-- web-chat sessions are found by the hash of their token.
create unique index chat_sessions_token_hash_idx on public.chat_sessions (token_hash);

-- ---------------------------------------------------------------------------------------------
-- Ingest: store the customer's message and its job, in one statement per message
-- ---------------------------------------------------------------------------------------------

-- The organisation's facts the bot tells customers about, from the dispatcher configuration of its
-- first AI-enabled number (the phone assistant and the chat bot speak for the same business), plus
-- the organisation's own settings. Who may call: the service role. Changes nothing.
create or replace function public.chat_org_profile(p_org_id uuid) returns jsonb
language sql stable security definer
set search_path = ''
as $$
  select jsonb_build_object(
    'org_id', o.id, 'org_name', o.name, 'timezone', coalesce(c.timezone, o.timezone),
    'default_country', o.default_country, 'locale', o.locale, 'currency', o.currency,
    'company_name', coalesce(c.company_name, o.name), 'agent_name', coalesce(c.agent_name, 'Alex'),
    'business_hours', coalesce(c.business_hours, '{}'::jsonb),
    'facts', coalesce(c.default_variables, '{}'::jsonb),
    'settings', jsonb_build_object(
      'system_prompt', s.system_prompt, 'llm_model', s.llm_model, 'temperature', s.temperature,
      'max_history_tokens', coalesce(s.max_history_tokens, 3000),
      'callbacks_within_business_hours', coalesce(s.callbacks_within_business_hours, false),
      'language', coalesce(s.language, 'en'), 'handoff_priority', coalesce(s.handoff_priority, 1)))
  from public.orgs o
  left join lateral (
    select d.* from public.ai_dispatcher_configs d
    join public.phone_numbers p on p.id = d.phone_number_id
    where d.org_id = o.id order by p.ai_dispatcher_enabled desc, d.created_at limit 1) c on true
  left join public.bot_settings s on s.org_id = o.id
  where o.id = p_org_id
$$;
revoke execute on function public.chat_org_profile(uuid) from public, anon, authenticated;
grant execute on function public.chat_org_profile(uuid) to service_role;

-- Starts a web-chat session for the site with key p_site_key: a conversation (channel 'web',
-- external_id = the session id), its chat_sessions row with the token's hash, the customer's phone
-- in E.164 (the organisation's default country) and, when exactly one client has that phone, the
-- client. Returns {"session_id", "conversation_id", "org_id", "profile"} or {"error": "site_not_found"}
-- for an unknown or disabled site.
-- Who may call: the service role (the chat function). Changes conversations, chat_sessions.
create or replace function public.chat_start_session(
  p_site_key text, p_token_hash bytea, p_customer jsonb, p_timezone text)
returns jsonb
language plpgsql security definer
set search_path = ''
as $$
declare
  v_site public.chat_sites;
  v_org public.orgs;
  v_session uuid := gen_random_uuid();
  v_conversation uuid;
  v_phone text;
  v_clients uuid[];
begin
  select * into v_site from public.chat_sites s where s.site_key = p_site_key and s.enabled;
  if not found then
    return jsonb_build_object('error', 'site_not_found');
  end if;
  select * into v_org from public.orgs o where o.id = v_site.org_id;
  v_phone := public.normalize_phone(p_customer ->> 'phone', v_org.default_country);
  if v_phone is not null then
    select array_agg(c.id) into v_clients
      from (select c.id from public.clients c where c.org_id = v_org.id and c.phone_e164 = v_phone limit 2) c;
  end if;
  insert into public.conversations (org_id, channel, external_id, client_id, customer_phone, metadata)
  values (v_org.id, 'web', v_session::text,
          case when cardinality(v_clients) = 1 then v_clients[1] end, v_phone,
          jsonb_strip_nulls(jsonb_build_object(
            'site_id', v_site.id, 'customer_name', nullif(btrim(p_customer ->> 'name'), ''),
            'customer_email', nullif(btrim(p_customer ->> 'email'), ''), 'timezone', p_timezone)))
  returning id into v_conversation;
  insert into public.chat_sessions (id, org_id, site_id, conversation_id, token_hash, timezone,
                                    customer_name, customer_email)
  values (v_session, v_org.id, v_site.id, v_conversation, p_token_hash, p_timezone,
          nullif(btrim(p_customer ->> 'name'), ''), nullif(btrim(p_customer ->> 'email'), ''));
  return jsonb_build_object('session_id', v_session, 'conversation_id', v_conversation, 'org_id', v_org.id,
                            'site_id', v_site.id, 'profile', public.chat_org_profile(v_org.id));
end
$$;
revoke execute on function public.chat_start_session(text, bytea, jsonb, text) from public, anon, authenticated;
grant execute on function public.chat_start_session(text, bytea, jsonb, text) to service_role;

-- Who holds the token with this hash: {"session_id", "conversation_id", "org_id", "site_enabled",
-- "site_rate_limit"},
-- or null. The chat function answers 401 for null and 404 when the session is not the one in the
-- path. Who may call: the service role. Changes nothing.
create or replace function public.chat_session_for_token(p_token_hash bytea) returns jsonb
language sql stable security definer
set search_path = ''
as $$
  select jsonb_build_object('session_id', s.id, 'conversation_id', s.conversation_id, 'org_id', s.org_id,
                            'site_id', s.site_id, 'site_enabled', t.enabled, 'timezone', s.timezone,
                            'site_rate_limit', t.rate_limit_per_minute)
  from public.chat_sessions s join public.chat_sites t on t.id = s.site_id
  where s.token_hash = p_token_hash
$$;
revoke execute on function public.chat_session_for_token(bytea) from public, anon, authenticated;
grant execute on function public.chat_session_for_token(bytea) to service_role;

-- Stores one customer message in an existing conversation with its job, unless a message with the
-- same provider id is already stored (then nothing is written). Returns {"message_id", "duplicate"}.
-- The message trigger reopens a resolved chat (see 20261123000300_conversations.sql).
-- Who may call: the service role. Changes messages, inbound_jobs (and, by trigger, conversations).
create or replace function public.chat_add_customer_message(
  p_conversation_id uuid, p_body text, p_provider_message_id text default null,
  p_metadata jsonb default '{}'::jsonb, p_created_at timestamptz default null)
returns jsonb
language plpgsql security definer
set search_path = ''
as $$
declare
  v_org uuid;
  v_message bigint;
begin
  select c.org_id into v_org from public.conversations c where c.id = p_conversation_id;
  if not found then
    return jsonb_build_object('error', 'conversation_not_found');
  end if;
  insert into public.messages (conversation_id, org_id, sender_type, body, provider_message_id, metadata, created_at)
  values (p_conversation_id, v_org, 'customer', p_body, p_provider_message_id,
          coalesce(p_metadata, '{}'::jsonb), coalesce(p_created_at, now()))
  on conflict (org_id, provider_message_id) do nothing
  returning id into v_message;
  if v_message is null then
    select m.id into v_message from public.messages m
      where m.org_id = v_org and m.provider_message_id = p_provider_message_id;
    return jsonb_build_object('message_id', v_message, 'duplicate', true, 'conversation_id', p_conversation_id);
  end if;
  insert into public.inbound_jobs (message_id, org_id, conversation_id) values (v_message, v_org, p_conversation_id);
  return jsonb_build_object('message_id', v_message, 'duplicate', false, 'conversation_id', p_conversation_id);
end
$$;
revoke execute on function public.chat_add_customer_message(uuid, text, text, jsonb, timestamptz) from public, anon, authenticated;
grant execute on function public.chat_add_customer_message(uuid, text, text, jsonb, timestamptz) to service_role;

-- Stores the inbound messages of one WhatsApp webhook change for the business number
-- p_phone_number_id: each element of p_messages is {"wamid", "from" (E.164), "name", "body",
-- "metadata", "timestamp" (unix seconds)}. The conversation is the organisation's WhatsApp thread
-- with that customer on that number (external_id '<phone_number_id>:<from>'), created on first
-- contact. Replayed wamids are stored once. Returns {"org_id", "results": [{"wamid",
-- "conversation_id", "message_id", "duplicate"}]} or {"error": "unknown_number"}.
-- Who may call: the service role (whatsapp-webhook). Changes conversations, messages, inbound_jobs.
create or replace function public.whatsapp_ingest(p_phone_number_id text, p_messages jsonb)
returns jsonb
language plpgsql security definer
set search_path = ''
as $$
declare
  v_number public.whatsapp_numbers;
  v_country text;
  v_item jsonb;
  v_phone text;
  v_conversation uuid;
  v_clients uuid[];
  v_result jsonb;
  v_results jsonb := '[]'::jsonb;
begin
  select * into v_number from public.whatsapp_numbers n where n.phone_number_id = p_phone_number_id and n.enabled;
  if not found then
    return jsonb_build_object('error', 'unknown_number');
  end if;
  select o.default_country into v_country from public.orgs o where o.id = v_number.org_id;
  for v_item in select * from jsonb_array_elements(coalesce(p_messages, '[]'::jsonb)) loop
    v_phone := public.normalize_phone(v_item ->> 'from', v_country);
    v_clients := null;
    if v_phone is not null then
      select array_agg(c.id) into v_clients
        from (select c.id from public.clients c where c.org_id = v_number.org_id and c.phone_e164 = v_phone limit 2) c;
    end if;
    insert into public.conversations as cv (org_id, channel, external_id, client_id, customer_phone, metadata)
    values (v_number.org_id, 'whatsapp', p_phone_number_id || ':' || (v_item ->> 'from'),
            case when cardinality(v_clients) = 1 then v_clients[1] end, v_phone,
            jsonb_strip_nulls(jsonb_build_object('phone_number_id', p_phone_number_id, 'wa_id', v_item ->> 'from',
                                                 'customer_name', nullif(btrim(v_item ->> 'name'), ''))))
    on conflict (org_id, channel, external_id) do update
      set metadata = cv.metadata || jsonb_strip_nulls(jsonb_build_object('customer_name', nullif(btrim(excluded.metadata ->> 'customer_name'), '')))
    returning cv.id into v_conversation;
    v_result := public.chat_add_customer_message(
      v_conversation, v_item ->> 'body', v_item ->> 'wamid', coalesce(v_item -> 'metadata', '{}'::jsonb),
      case when (v_item ->> 'timestamp') ~ '^[0-9]{1,12}$' then to_timestamp((v_item ->> 'timestamp')::bigint) end);
    v_results := v_results || jsonb_build_array(v_result || jsonb_build_object('wamid', v_item ->> 'wamid'));
  end loop;
  return jsonb_build_object('org_id', v_number.org_id, 'results', v_results);
end
$$;
revoke execute on function public.whatsapp_ingest(text, jsonb) from public, anon, authenticated;
grant execute on function public.whatsapp_ingest(text, jsonb) to service_role;

-- ---------------------------------------------------------------------------------------------
-- Claim and complete
-- ---------------------------------------------------------------------------------------------

-- Claims the oldest unanswered customer message of a conversation for p_lease_seconds and returns
-- everything the pipeline needs to answer it, in one round trip:
--   {"job": {"message_id", "lease_token", "attempts"}, "message": {...}, "conversation": {...},
--    "profile": chat_org_profile(), "memory": {...}, "history": [last p_history_limit messages,
--    oldest first, up to and including this one], "session": {...} | null, "client": {...} | null,
--    "callback": the scheduled callback | null}
-- or null when there is nothing to claim: no job, or another worker holds a live lease on this
-- conversation. The race it prevents: two workers answering two messages of one conversation at
-- once (replies out of order, memory overwritten). The conversation row is locked for the length of
-- this short transaction, so concurrent claims for one conversation take turns; different
-- conversations never wait for each other. A job claimed p_max_attempts times without completing
-- is marked dead instead (it stays visible) and the next one is tried.
-- Who may call: the service role. Changes inbound_jobs.
create or replace function public.chat_claim_next(
  p_conversation_id uuid, p_lease_seconds int default 60, p_history_limit int default 40,
  p_max_attempts int default 5)
returns jsonb
language plpgsql security definer
set search_path = ''
as $$
declare
  v_conversation public.conversations;
  v_job public.inbound_jobs;
  v_token uuid := gen_random_uuid();
begin
  select * into v_conversation from public.conversations c where c.id = p_conversation_id for no key update;
  if not found then
    return null;
  end if;
  if exists (select 1 from public.inbound_jobs j
             where j.conversation_id = p_conversation_id and j.dead_at is null and j.locked_until > now()) then
    return null;
  end if;
  loop
    select * into v_job from public.inbound_jobs j
      where j.conversation_id = p_conversation_id and j.dead_at is null
      order by j.message_id limit 1;
    if not found then
      return null;
    end if;
    exit when v_job.attempts < p_max_attempts;
    update public.inbound_jobs j set dead_at = now(), lease_token = null, locked_until = null
      where j.message_id = v_job.message_id;
  end loop;
  update public.inbound_jobs j
    set attempts = j.attempts + 1, lease_token = v_token,
        locked_until = now() + make_interval(secs => p_lease_seconds)
    where j.message_id = v_job.message_id;

  return jsonb_build_object(
    'job', jsonb_build_object('message_id', v_job.message_id, 'lease_token', v_token, 'attempts', v_job.attempts + 1),
    'message', (select jsonb_build_object('id', m.id, 'body', m.body, 'metadata', m.metadata,
                                          'created_at', m.created_at, 'provider_message_id', m.provider_message_id)
                from public.messages m where m.id = v_job.message_id),
    'conversation', jsonb_build_object(
      'id', v_conversation.id, 'org_id', v_conversation.org_id, 'channel', v_conversation.channel,
      'external_id', v_conversation.external_id, 'status', v_conversation.status,
      'customer_phone', v_conversation.customer_phone, 'client_id', v_conversation.client_id,
      'priority', v_conversation.priority, 'summary', v_conversation.summary,
      'metadata', v_conversation.metadata, 'last_customer_message_at', v_conversation.last_customer_message_at,
      'created_at', v_conversation.created_at),
    'profile', public.chat_org_profile(v_conversation.org_id),
    'memory', coalesce((select b.state from public.bot_memory b where b.conversation_id = p_conversation_id), '{}'::jsonb),
    'history', coalesce((
      select jsonb_agg(jsonb_build_object('id', h.id, 'sender_type', h.sender_type, 'body', h.body,
                                          'created_at', h.created_at, 'metadata', h.metadata) order by h.created_at, h.id)
      from (select m.* from public.messages m
            where m.conversation_id = p_conversation_id and m.id <= v_job.message_id
            order by m.created_at desc, m.id desc limit p_history_limit) h), '[]'::jsonb),
    'session', (select jsonb_build_object('id', s.id, 'timezone', s.timezone, 'customer_name', s.customer_name,
                                          'customer_email', s.customer_email)
                from public.chat_sessions s where s.conversation_id = p_conversation_id),
    'client', (select jsonb_build_object('id', c.id, 'name', c.name, 'email', c.email)
               from public.clients c where c.id = v_conversation.client_id),
    'callback', (select to_jsonb(cb) - 'org_id' from public.callbacks cb
                 where cb.conversation_id = p_conversation_id and cb.status = 'scheduled'));
end
$$;
revoke execute on function public.chat_claim_next(uuid, int, int, int) from public, anon, authenticated;
grant execute on function public.chat_claim_next(uuid, int, int, int) to service_role;

-- Completes a claimed job: stores the replies (bot messages, each {"body", "metadata"}), queues each
-- one for delivery when p_outbox is given ({"channel", "recipient", "payload"}: the reply's text and
-- buttons are added to payload), writes or drops the bot's memory, and deletes the job, all in one
-- transaction. Only the holder of the current lease may complete: a worker whose lease was taken
-- over gets {"error": "lease_lost"} and nothing is written, so a message is answered exactly once.
-- Returns {"replies": [{"message_id", "outbox_id", "body", "metadata", "created_at"}]}.
-- Who may call: the service role. Changes messages, outbox, bot_memory, inbound_jobs.
create or replace function public.chat_complete_job(
  p_message_id bigint, p_lease_token uuid, p_replies jsonb, p_memory jsonb, p_outbox jsonb default null)
returns jsonb
language plpgsql security definer
set search_path = ''
as $$
declare
  v_job public.inbound_jobs;
  v_reply jsonb;
  v_n int := 0;
  v_message public.messages;
  v_outbox bigint;
  v_out jsonb := '[]'::jsonb;
begin
  delete from public.inbound_jobs j
    where j.message_id = p_message_id and j.lease_token = p_lease_token
    returning * into v_job;
  if not found then
    return jsonb_build_object('error', 'lease_lost');
  end if;
  for v_reply in select * from jsonb_array_elements(coalesce(p_replies, '[]'::jsonb)) loop
    v_n := v_n + 1;
    insert into public.messages (conversation_id, org_id, sender_type, body, metadata, created_at)
    values (v_job.conversation_id, v_job.org_id, 'bot', v_reply ->> 'body',
            coalesce(v_reply -> 'metadata', '{}'::jsonb) || jsonb_build_object('reply_to', p_message_id),
            -- Replies keep their order even when written in the same microsecond.
            clock_timestamp())
    returning * into v_message;
    v_outbox := null;
    if p_outbox is not null then
      insert into public.outbox (org_id, conversation_id, message_id, channel, recipient, payload, idempotency_key)
      values (v_job.org_id, v_job.conversation_id, v_message.id, p_outbox ->> 'channel', p_outbox ->> 'recipient',
              coalesce(p_outbox -> 'payload', '{}'::jsonb) || jsonb_build_object(
                'text', v_reply ->> 'body', 'buttons', coalesce(v_reply -> 'metadata' -> 'buttons', '[]'::jsonb)),
              format('reply:%s:%s', p_message_id, v_n))
      returning id into v_outbox;
    end if;
    v_out := v_out || jsonb_build_array(jsonb_build_object(
      'message_id', v_message.id, 'outbox_id', v_outbox, 'body', v_message.body,
      'metadata', v_message.metadata, 'created_at', v_message.created_at));
  end loop;
  if p_memory is null or p_memory = '{}'::jsonb then
    delete from public.bot_memory b where b.conversation_id = v_job.conversation_id;
  else
    insert into public.bot_memory as b (conversation_id, org_id, state) values (v_job.conversation_id, v_job.org_id, p_memory)
    on conflict (conversation_id) do update set state = excluded.state, updated_at = now();
  end if;
  return jsonb_build_object('replies', v_out);
end
$$;
revoke execute on function public.chat_complete_job(bigint, uuid, jsonb, jsonb, jsonb) from public, anon, authenticated;
grant execute on function public.chat_complete_job(bigint, uuid, jsonb, jsonb, jsonb) to service_role;

-- Gives a claimed job back after a failure (the lease ends now, the error is kept) so the sweep
-- retries it. Who may call: the service role. Changes inbound_jobs.
create or replace function public.chat_release_job(p_message_id bigint, p_lease_token uuid, p_error text)
returns boolean
language sql security definer
set search_path = ''
as $$
  update public.inbound_jobs j set locked_until = null, lease_token = null, last_error = left(p_error, 500)
  where j.message_id = p_message_id and j.lease_token = p_lease_token
  returning true
$$;
revoke execute on function public.chat_release_job(bigint, uuid, text) from public, anon, authenticated;
grant execute on function public.chat_release_job(bigint, uuid, text) to service_role;

-- Conversations with customer messages nobody is answering: a job with no live lease that is older
-- than p_grace (the worker that stored it is still expected to be on it until then). The sweep
-- claims each with chat_claim_next(). Who may call: the service role. Changes nothing.
create or replace function public.chat_due_conversations(
  p_now timestamptz default now(), p_grace interval default interval '10 seconds', p_limit int default 100)
returns setof uuid
language sql stable security definer
set search_path = ''
as $$
  select j.conversation_id from public.inbound_jobs j
  where j.dead_at is null and j.created_at < p_now - p_grace
    and (j.locked_until is null or j.locked_until < p_now)
  group by j.conversation_id
  order by min(j.created_at)
  limit p_limit
$$;
revoke execute on function public.chat_due_conversations(timestamptz, interval, int) from public, anon, authenticated;
grant execute on function public.chat_due_conversations(timestamptz, interval, int) to service_role;

-- ---------------------------------------------------------------------------------------------
-- Actions: each idempotent in the database, whoever asks and however often
-- ---------------------------------------------------------------------------------------------

-- Hands the conversation to people: status 'queued' with p_priority (never lowered) and p_summary
-- for the human. Only a conversation the bot holds (or a resolved one) moves; one already queued or
-- with an agent is left as it is and the answer says changed = false. Logged in
-- conversation_actions either way. Returns {"changed", "status", "priority"}.
-- Who may call: the service role. Changes conversations, conversation_actions.
create or replace function public.chat_request_handoff(
  p_conversation_id uuid, p_priority smallint, p_summary text, p_source text,
  p_message_id bigint default null, p_reason text default null)
returns jsonb
language plpgsql security definer
set search_path = ''
as $$
declare
  v_row public.conversations;
  v_changed boolean;
begin
  update public.conversations c
    set status = 'queued', priority = greatest(c.priority, coalesce(p_priority, 1)),
        summary = coalesce(nullif(btrim(p_summary), ''), c.summary)
    where c.id = p_conversation_id and c.status in ('bot', 'resolved')
    returning * into v_row;
  v_changed := found;
  if not v_changed then
    select * into v_row from public.conversations c where c.id = p_conversation_id;
    if not found then
      return jsonb_build_object('error', 'conversation_not_found');
    end if;
  end if;
  insert into public.conversation_actions (org_id, conversation_id, type, source, message_id, changed, details)
  values (v_row.org_id, v_row.id, 'handoff_requested', p_source, p_message_id, v_changed,
          jsonb_strip_nulls(jsonb_build_object('priority', v_row.priority, 'summary', v_row.summary, 'reason', p_reason)));
  return jsonb_build_object('changed', v_changed, 'status', v_row.status, 'priority', v_row.priority, 'summary', v_row.summary);
end
$$;
revoke execute on function public.chat_request_handoff(uuid, smallint, text, text, bigint, text) from public, anon, authenticated;
grant execute on function public.chat_request_handoff(uuid, smallint, text, text, bigint, text) to service_role;

-- Schedules a callback for the conversation. p_callback: {"scheduled_for", "timezone", "phone",
-- "subject", "description", "requested_text", "customer_name", "customer_email"}. At most one
-- scheduled callback per conversation (callbacks_one_scheduled_per_conversation): when one exists,
-- it is returned with created = false and nothing is written but the action log. Returns
-- {"created", "callback": {...}}. Who may call: the service role. Changes callbacks, conversation_actions.
create or replace function public.chat_schedule_callback(
  p_conversation_id uuid, p_callback jsonb, p_source text, p_message_id bigint default null)
returns jsonb
language plpgsql security definer
set search_path = ''
as $$
declare
  v_org uuid;
  v_row public.callbacks;
  v_created boolean;
begin
  select c.org_id into v_org from public.conversations c where c.id = p_conversation_id;
  if not found then
    return jsonb_build_object('error', 'conversation_not_found');
  end if;
  insert into public.callbacks (org_id, conversation_id, scheduled_for, timezone, phone, subject, description,
                                requested_text, customer_name, customer_email, source)
  values (v_org, p_conversation_id, (p_callback ->> 'scheduled_for')::timestamptz, p_callback ->> 'timezone',
          p_callback ->> 'phone', p_callback ->> 'subject', p_callback ->> 'description',
          p_callback ->> 'requested_text', p_callback ->> 'customer_name', p_callback ->> 'customer_email', p_source)
  on conflict (conversation_id) where status = 'scheduled' do nothing
  returning * into v_row;
  v_created := found;
  if not v_created then
    select * into v_row from public.callbacks cb where cb.conversation_id = p_conversation_id and cb.status = 'scheduled';
  end if;
  insert into public.conversation_actions (org_id, conversation_id, type, source, message_id, changed, details)
  values (v_org, p_conversation_id, 'callback_scheduled', p_source, p_message_id, v_created,
          jsonb_build_object('callback_id', v_row.id, 'scheduled_for', v_row.scheduled_for, 'phone', v_row.phone,
                             'subject', v_row.subject));
  return jsonb_build_object('created', v_created, 'callback', to_jsonb(v_row));
end
$$;
revoke execute on function public.chat_schedule_callback(uuid, jsonb, text, bigint) from public, anon, authenticated;
grant execute on function public.chat_schedule_callback(uuid, jsonb, text, bigint) to service_role;

-- Closes the conversation as resolved with reason 'completed', keeping the customer's own words in
-- metadata.close_reason. A conversation already resolved is left as it is (changed = false).
-- Returns {"changed", "status"}. Who may call: the service role. Changes conversations, conversation_actions.
create or replace function public.chat_close_conversation(
  p_conversation_id uuid, p_reason text, p_source text, p_message_id bigint default null)
returns jsonb
language plpgsql security definer
set search_path = ''
as $$
declare
  v_row public.conversations;
  v_changed boolean;
begin
  update public.conversations c
    set status = 'resolved', resolution_reason = 'completed',
        metadata = c.metadata || jsonb_strip_nulls(jsonb_build_object('close_reason', left(p_reason, 500)))
    where c.id = p_conversation_id and c.status <> 'resolved'
    returning * into v_row;
  v_changed := found;
  if not v_changed then
    select * into v_row from public.conversations c where c.id = p_conversation_id;
    if not found then
      return jsonb_build_object('error', 'conversation_not_found');
    end if;
  end if;
  insert into public.conversation_actions (org_id, conversation_id, type, source, message_id, changed, details)
  values (v_row.org_id, v_row.id, 'conversation_closed', p_source, p_message_id, v_changed,
          jsonb_strip_nulls(jsonb_build_object('reason', left(p_reason, 500))));
  return jsonb_build_object('changed', v_changed, 'status', v_row.status);
end
$$;
revoke execute on function public.chat_close_conversation(uuid, text, text, bigint) from public, anon, authenticated;
grant execute on function public.chat_close_conversation(uuid, text, text, bigint) to service_role;

-- ---------------------------------------------------------------------------------------------
-- Maintenance: idle bot sessions end
-- ---------------------------------------------------------------------------------------------

-- Drops the bot's working memory of conversations idle for longer than their organisation's
-- bot_settings.idle_timeout (30 minutes by default) before p_now, in batches of c_batch_size, at most
-- c_max_batches per call. Returns the number of memories dropped.
-- Who may call: the service role, run_maintenance_tasks(). Changes bot_memory.
create or replace function public.expire_bot_memory(p_now timestamptz default now()) returns bigint
language plpgsql security definer
set search_path = ''
as $$
declare
  c_batch_size constant int := 1000;
  c_max_batches constant int := 50;
  v_n int;
  v_total bigint := 0;
begin
  for i in 1..c_max_batches loop
    delete from public.bot_memory b where b.conversation_id in (
      select m.conversation_id from public.bot_memory m
      left join public.bot_settings s on s.org_id = m.org_id
      where m.updated_at < p_now - coalesce(s.idle_timeout, interval '30 minutes')
      order by m.updated_at limit c_batch_size for update of m skip locked);
    get diagnostics v_n = row_count;
    v_total := v_total + v_n;
    exit when v_n < c_batch_size;
  end loop;
  return v_total;
end
$$;
revoke execute on function public.expire_bot_memory(timestamptz) from public, anon, authenticated;
grant execute on function public.expire_bot_memory(timestamptz) to service_role;

insert into public.maintenance_tasks (name, position, call, analyzed_table) values
  ('idle_bot_sessions', 70, 'select public.expire_bot_memory($1)', null)
on conflict (name) do update set call = excluded.call, position = excluded.position;

-- ---------------------------------------------------------------------------------------------
-- Row-level security: members read their organisations' rows; only the service role writes.
-- ---------------------------------------------------------------------------------------------
alter table public.inbound_jobs enable row level security;
alter table public.bot_memory enable row level security;
alter table public.conversation_actions enable row level security;
alter table public.callbacks enable row level security;

create policy inbound_jobs_member_read on public.inbound_jobs for select to authenticated
  using (org_id in (select public.user_org_ids()));
create policy bot_memory_member_read on public.bot_memory for select to authenticated
  using (org_id in (select public.user_org_ids()));
create policy conversation_actions_member_read on public.conversation_actions for select to authenticated
  using (org_id in (select public.user_org_ids()));
create policy callbacks_member on public.callbacks for all to authenticated
  using (org_id in (select public.user_org_ids())) with check (org_id in (select public.user_org_ids()));

revoke all on public.inbound_jobs, public.bot_memory, public.conversation_actions, public.callbacks
  from anon, authenticated;
grant select on public.inbound_jobs, public.bot_memory, public.conversation_actions, public.callbacks to authenticated;
-- Staff may mark a callback done or cancel it, and move it.
grant update (status, scheduled_for, phone, provider_status) on public.callbacks to authenticated;
grant all on public.inbound_jobs, public.bot_memory, public.conversation_actions, public.callbacks to service_role;

select public.enable_audit('public.callbacks');
