-- What people read of a chat conversation, each in one round trip: the customer's history (web
-- chat's GET), and the operators' debug view. Also the once-a-minute sweep on Supabase, which asks
-- the chat function to answer customer messages whose worker died and to retry the outbox.

-- The conversation as the customer sees it: {"conversation": {"id", "status", "channel",
-- "created_at", "resolved_at", "resolution_reason"}, "messages": [{"id", "sender", "body",
-- "buttons", "created_at"}], "actions": [{"type", "created_at", ...details}]}. Bot, agent and system
-- messages are included, so a human agent's replies appear here as soon as they are written.
-- Who may call: the service role (the chat function, after checking the session token). Changes nothing.
create or replace function public.chat_history(p_conversation_id uuid) returns jsonb
language sql stable security definer
set search_path = ''
as $$
  select jsonb_build_object(
    'conversation', jsonb_build_object('id', c.id, 'status', c.status, 'channel', c.channel,
                                       'created_at', c.created_at, 'resolved_at', c.resolved_at,
                                       'resolution_reason', c.resolution_reason,
                                       'messages_purged', c.messages_purged_at is not null),
    'messages', coalesce((
      select jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
               'id', m.id, 'sender', m.sender_type, 'body', m.body, 'created_at', m.created_at,
               'buttons', m.metadata -> 'buttons', 'sources', m.metadata -> 'sources'))
             order by m.created_at, m.id)
      from public.messages m where m.conversation_id = c.id), '[]'::jsonb),
    'actions', coalesce((
      select jsonb_agg(a.details || jsonb_build_object('type', a.type, 'created_at', a.created_at) order by a.id)
      from public.conversation_actions a where a.conversation_id = c.id and a.changed), '[]'::jsonb))
  from public.conversations c where c.id = p_conversation_id
$$;
revoke execute on function public.chat_history(uuid) from public, anon, authenticated;
grant execute on function public.chat_history(uuid) to service_role;

-- Everything about one conversation for an operator: the conversation row, the web session (no
-- token hash), every message, every LLM call (request, response, tool calls, latency, tokens, error)
-- when LLM calls are recorded, the actions with the last one, the bot's memory, callbacks, outbox
-- rows and pending jobs. plpgsql so that the LLM table may be absent. Who may call: the service
-- role (the chat function's debug route, behind the service role key). Changes nothing.
create or replace function public.chat_debug(p_conversation_id uuid) returns jsonb
language plpgsql stable security definer
set search_path = ''
as $$
declare
  v_result jsonb;
  v_llm jsonb := '[]'::jsonb;
begin
  select jsonb_build_object(
    'conversation', to_jsonb(c),
    'session', (select to_jsonb(s) - 'token_hash' from public.chat_sessions s where s.conversation_id = c.id),
    'state', jsonb_build_object('status', c.status, 'priority', c.priority, 'summary', c.summary,
                                'memory', (select jsonb_build_object('state', b.state, 'updated_at', b.updated_at)
                                           from public.bot_memory b where b.conversation_id = c.id)),
    'messages', coalesce((select jsonb_agg(to_jsonb(m) order by m.created_at, m.id)
                          from public.messages m where m.conversation_id = c.id), '[]'::jsonb),
    'actions', coalesce((select jsonb_agg(to_jsonb(a) order by a.id)
                         from public.conversation_actions a where a.conversation_id = c.id), '[]'::jsonb),
    'last_action', (select to_jsonb(a) from public.conversation_actions a
                    where a.conversation_id = c.id order by a.id desc limit 1),
    'callbacks', coalesce((select jsonb_agg(to_jsonb(cb) order by cb.created_at)
                           from public.callbacks cb where cb.conversation_id = c.id), '[]'::jsonb),
    'outbox', coalesce((select jsonb_agg(to_jsonb(o) - 'lease_token' order by o.id)
                        from public.outbox o where o.conversation_id = c.id), '[]'::jsonb),
    'pending_jobs', coalesce((select jsonb_agg(to_jsonb(j) - 'lease_token' order by j.message_id)
                              from public.inbound_jobs j where j.conversation_id = c.id), '[]'::jsonb),
    'timestamps', jsonb_build_object('created_at', c.created_at, 'last_activity_at', c.last_activity_at,
                                     'last_customer_message_at', c.last_customer_message_at,
                                     'first_response_at', c.first_response_at, 'resolved_at', c.resolved_at))
  into v_result
  from public.conversations c where c.id = p_conversation_id;
  if v_result is null then
    return null;
  end if;
  if to_regclass('public.llm_calls') is not null then
    execute $q$
      select coalesce(jsonb_agg(to_jsonb(l) order by l.created_at, l.id), '[]'::jsonb)
      from public.llm_calls l where l.conversation_id = $1
    $q$ into v_llm using p_conversation_id;
  end if;
  return v_result || jsonb_build_object('llm_calls', v_llm);
end
$$;
revoke execute on function public.chat_debug(uuid) from public, anon, authenticated;
grant execute on function public.chat_debug(uuid) to service_role;

-- ---------------------------------------------------------------------------------------------
-- The sweep on Supabase: pg_cron asks the chat function, through pg_net, to pick up customer
-- messages whose worker died and outbox rows that are due. It posts only when there is such work,
-- and only where pg_net and Vault exist and the project's functions URL and service role key are
-- stored in Vault:
--   select vault.create_secret('https://<project-ref>.supabase.co/functions/v1', 'switchboard_functions_url');
--   select vault.create_secret('<service role key>', 'switchboard_service_role_key');
-- Elsewhere (`npm start`) the local runtime's timer calls the same route.
-- ---------------------------------------------------------------------------------------------

-- Posts to one of this project's functions through pg_net, with the service role key as bearer:
-- `p_path` below the functions URL (e.g. 'chat/sweep'). Returns true when the request was queued;
-- false where pg_net or Vault is missing or the two secrets are not stored. Scheduled jobs that
-- wake a function (the chat sweep, embedding work) share it.
-- Who may call: pg_cron (the database owner). Changes nothing here (pg_net queues the request).
create or replace function public.post_to_function(p_path text, p_timeout_ms int default 10000) returns boolean
language plpgsql security definer
set search_path = ''
as $$
declare
  v_url text;
  v_key text;
begin
  if to_regclass('vault.decrypted_secrets') is null or to_regnamespace('net') is null then
    return false;
  end if;
  execute 'select decrypted_secret from vault.decrypted_secrets where name = $1' into v_url using 'switchboard_functions_url';
  execute 'select decrypted_secret from vault.decrypted_secrets where name = $1' into v_key using 'switchboard_service_role_key';
  if v_url is null or v_key is null then
    return false;
  end if;
  execute 'select net.http_post(url := $1, body := $2, headers := $3, timeout_milliseconds := $4)'
    using rtrim(v_url, '/') || '/' || ltrim(p_path, '/'), '{}'::jsonb,
          jsonb_build_object('Content-Type', 'application/json', 'Authorization', 'Bearer ' || v_key), p_timeout_ms;
  return true;
end
$$;
revoke execute on function public.post_to_function(text, int) from public, anon, authenticated, service_role;

-- Asks the chat function for a sweep when there is work for one: customer messages nobody is
-- answering, WhatsApp messages accepted but not moved into their conversations, outbox rows due.
-- Returns true when it asked. Who may call: pg_cron (the database owner). Changes nothing here.
create or replace function public.request_chat_sweep() returns boolean
language plpgsql security definer
set search_path = ''
as $$
begin
  if not exists (select 1 from public.inbound_jobs j
                 where j.dead_at is null and j.created_at < now() - interval '10 seconds'
                   and (j.locked_until is null or j.locked_until < now()))
     and not exists (select 1 from public.whatsapp_inbox i
                     where i.moved_at is null and i.received_at < now() - interval '5 seconds')
     and not exists (select 1 from public.outbox o
                     where (o.status = 'pending' and o.next_attempt_at <= now())
                        or (o.status = 'sending' and o.locked_until < now())) then
    return false;
  end if;
  return public.post_to_function('chat/sweep', 10000);
end
$$;
revoke execute on function public.request_chat_sweep() from public, anon, authenticated, service_role;

-- Every 30 seconds where pg_cron can (1.5 and later: Supabase has it), else every minute. With the
-- default lease (the turn deadline plus 5 s, 17 s) a message whose worker died is answered within a
-- minute of arriving.
select public.register_scheduled_job('switchboard-chat-sweep',
  case when exists (select 1 from pg_catalog.pg_extension e where e.extname = 'pg_cron'
                    -- extversion may carry a packaging suffix ("1.4-1"): compare major.minor only.
                    and (regexp_match(e.extversion, '^([0-9]+)\.([0-9]+)'))::int[] >= array[1, 5])
       then '30 seconds' else '* * * * *' end,
  'select public.request_chat_sweep()');
