-- The agents' API in SQL: what an agent does (accept, assign, transfer, escalate, end, reply, queue,
-- start a WhatsApp session, change status), each one function, one round trip. The `agents`
-- function calls them as the signed-in agent: role authenticated with the verified JWT's claims in
-- request.jwt.claims, so auth.uid() is the agent's user and every function checks the caller
-- itself (security definer: they write rows the caller cannot write directly). Errors carry stable
-- SQLSTATEs (agent_fail): SBU01 UNAUTHORIZED, SBF03 FORBIDDEN, SBN04 NOT_FOUND, SBC09 CONFLICT,
-- SBB00 BAD_REQUEST; the API maps them to its error codes.

-- A session as the API returns it: the session, its conversation's customer and channel, and the agent.
-- security invoker: called by an agent, it reads through RLS (a session they may not see is null);
-- called from the definer functions below, it reads as they do.
-- Who may call: authenticated agents, the functions below, the service role. Changes nothing.
create or replace function public.agent_session_json(p_session_id uuid) returns jsonb
language sql stable set search_path = ''
as $$
  select jsonb_build_object(
    'id', s.id, 'status', s.status, 'priority', s.priority, 'required_skill', s.required_skill,
    'escalation_level', s.escalation_level, 'summary', s.summary, 'agent_id', s.agent_id,
    'agent_name', a.display_name, 'assigned_by', s.assigned_by, 'ended_reason', s.ended_reason,
    'ended_by', s.ended_by, 'transferred_from', s.transferred_from, 'queued_at', s.queued_at,
    'assigned_at', s.assigned_at, 'first_response_at', s.first_response_at, 'ended_at', s.ended_at,
    'expires_at', s.expires_at, 'customer_messages', s.customer_messages, 'agent_messages', s.agent_messages,
    'conversation', jsonb_build_object('id', c.id, 'channel', c.channel, 'status', c.status,
      'customer_phone', c.customer_phone,
      'customer_name', coalesce(cl.name, cs.customer_name, c.metadata ->> 'customer_name'),
      'last_customer_message_at', c.last_customer_message_at))
  from public.agent_sessions s
  join public.conversations c on c.id = s.conversation_id
  left join public.support_agents a on a.id = s.agent_id
  left join public.clients cl on cl.id = c.client_id
  left join public.chat_sessions cs on cs.conversation_id = c.id
  where s.id = p_session_id
$$;
revoke execute on function public.agent_session_json(uuid) from public, anon;
grant execute on function public.agent_session_json(uuid) to authenticated, service_role;

-- Agents read the customers of their organisation (names and numbers in the queue) and the web
-- sessions' public columns (the token hash stays ungranted).
create policy clients_agent_read on public.clients for select to authenticated
  using (org_id = (select public.current_agent_org_id()));
create policy chat_sessions_agent_read on public.chat_sessions for select to authenticated
  using (org_id = (select public.current_agent_org_id()));

-- Locks the session's conversation, then the session (the file's lock order), after checking the
-- session is in the caller's organisation (else NOT_FOUND: another organisation's ids do not exist).
-- Who may call: the functions below. Changes nothing (takes locks).
create or replace function public.agent_lock_session(p_me public.support_agents, p_session_id uuid)
returns public.agent_sessions
language plpgsql security definer set search_path = ''
as $$
declare
  v_conversation uuid;
  v public.agent_sessions;
begin
  select s.conversation_id into v_conversation from public.agent_sessions s
    where s.id = p_session_id and s.org_id = p_me.org_id;
  if not found then
    perform public.agent_fail('NOT_FOUND', 'no such session');
  end if;
  perform 1 from public.conversations c where c.id = v_conversation for update;
  select * into v from public.agent_sessions s where s.id = p_session_id for update;
  return v;
end
$$;
revoke execute on function public.agent_lock_session(public.support_agents, uuid) from public, anon, authenticated;

-- The open session of a conversation of the caller's organisation (for the conversation-addressed
-- routes), or NOT_FOUND. Who may call: authenticated agents. Changes nothing.
create or replace function public.agent_open_session_of(p_conversation_id uuid) returns uuid
language plpgsql stable security definer set search_path = ''
as $$
declare
  v_me public.support_agents := public.agent_require_caller();
  v uuid;
begin
  select s.id into v from public.agent_sessions s
    where s.conversation_id = p_conversation_id and s.org_id = v_me.org_id and s.status in ('waiting', 'active');
  if v is null then
    perform public.agent_fail('NOT_FOUND', 'the conversation has no open session');
  end if;
  return v;
end
$$;
revoke execute on function public.agent_open_session_of(uuid) from public, anon;
grant execute on function public.agent_open_session_of(uuid) to authenticated, service_role;

-- Accept (p_agent_id null or the caller) or, for supervisors, assign to another agent of the
-- organisation. The session must be waiting (CONFLICT when someone has it; accepting one's own
-- active session again answers changed = false) and the agent must have spare capacity (CONFLICT).
-- The race it prevents: two agents accepting one session (the session row lock: the second finds
-- it active), and an agent accepting past max_concurrent while an assignment run fills them (the
-- agent_load row lock before the count is checked).
-- Returns {"changed", "session"}. Who may call: authenticated agents. Changes agent_sessions,
-- conversations, agent_load.
create or replace function public.agent_accept(p_session_id uuid, p_agent_id uuid default null) returns jsonb
language plpgsql security definer set search_path = ''
as $$
declare
  v_me public.support_agents := public.agent_require_caller();
  v_target public.support_agents;
  v_session public.agent_sessions;
  v_load public.agent_load;
begin
  if p_agent_id is not null and p_agent_id <> v_me.id and v_me.role <> 'supervisor' then
    perform public.agent_fail('FORBIDDEN', 'only supervisors assign sessions to other agents');
  end if;
  select * into v_target from public.support_agents a where a.id = coalesce(p_agent_id, v_me.id) and a.org_id = v_me.org_id;
  if not found then
    perform public.agent_fail('NOT_FOUND', 'no such agent');
  end if;
  v_session := public.agent_lock_session(v_me, p_session_id);
  if v_session.status = 'active' and v_session.agent_id = v_target.id then
    return jsonb_build_object('changed', false, 'session', public.agent_session_json(v_session.id));
  end if;
  if v_session.status <> 'waiting' then
    perform public.agent_fail('CONFLICT', format('the session is %s', v_session.status));
  end if;
  select * into v_load from public.agent_load l where l.agent_id = v_target.id for update;
  if v_load.active_count >= v_target.max_concurrent then
    perform public.agent_fail('CONFLICT', 'the agent has no spare capacity');
  end if;
  update public.agent_sessions s
    set status = 'active', agent_id = v_target.id, assigned_at = now(), assigned_by = v_me.id::text
    where s.id = v_session.id;
  update public.conversations c set status = 'agent', assigned_agent_id = v_target.id where c.id = v_session.conversation_id;
  return jsonb_build_object('changed', true, 'session', public.agent_session_json(v_session.id));
end
$$;
revoke execute on function public.agent_accept(uuid, uuid) from public, anon;
grant execute on function public.agent_accept(uuid, uuid) to authenticated, service_role;

-- Ends a session: its agent or a supervisor (FORBIDDEN otherwise); a waiting session only by a
-- supervisor. The conversation is resolved (reason completed). Ending an ended session answers
-- changed = false. Returns {"changed", "session"}. Who may call: authenticated agents. Changes
-- agent_sessions, conversations, agent_load, and what assignment changes.
create or replace function public.agent_end(p_session_id uuid) returns jsonb
language plpgsql security definer set search_path = ''
as $$
declare
  v_me public.support_agents := public.agent_require_caller();
  v_session public.agent_sessions;
begin
  v_session := public.agent_lock_session(v_me, p_session_id);
  if v_me.role <> 'supervisor' and v_session.agent_id is distinct from v_me.id then
    perform public.agent_fail('FORBIDDEN', 'only the session''s agent or a supervisor may end it');
  end if;
  if v_session.status = 'ended' then
    return jsonb_build_object('changed', false, 'session', public.agent_session_json(v_session.id));
  end if;
  perform public.agent_end_session_internal(v_session, 'agent_ended', v_me.id, now());
  return jsonb_build_object('changed', true, 'session', public.agent_session_json(v_session.id));
end
$$;
revoke execute on function public.agent_end(uuid) from public, anon;
grant execute on function public.agent_end(uuid) to authenticated, service_role;

-- Transfers an open session: to another agent (p_agent_id: the session continues with them, now,
-- if they have capacity, else CONFLICT) or to a skill (p_skill: back to the queue with that skill
-- required). The current session ends with reason 'transferred' and a new one continues it
-- (transferred_from). Its agent or a supervisor may transfer. Returns {"session": the new one}.
-- Who may call: authenticated agents. Changes agent_sessions, conversations, agent_load.
create or replace function public.agent_transfer(p_session_id uuid, p_agent_id uuid default null, p_skill text default null)
returns jsonb
language plpgsql security definer set search_path = ''
as $$
declare
  v_me public.support_agents := public.agent_require_caller();
  v_session public.agent_sessions;
  v_target public.support_agents;
  v_load public.agent_load;
  v_new uuid;
  v_skill text := nullif(btrim(p_skill), '');
begin
  if (p_agent_id is null) = (v_skill is null) then
    perform public.agent_fail('BAD_REQUEST', 'give exactly one of agent_id or skill');
  end if;
  v_session := public.agent_lock_session(v_me, p_session_id);
  if v_me.role <> 'supervisor' and v_session.agent_id is distinct from v_me.id then
    perform public.agent_fail('FORBIDDEN', 'only the session''s agent or a supervisor may transfer it');
  end if;
  if v_session.status = 'ended' then
    perform public.agent_fail('CONFLICT', 'the session has ended');
  end if;
  if p_agent_id is not null then
    select * into v_target from public.support_agents a where a.id = p_agent_id and a.org_id = v_me.org_id;
    if not found then
      perform public.agent_fail('NOT_FOUND', 'no such agent');
    end if;
    if v_target.id = v_session.agent_id then
      perform public.agent_fail('CONFLICT', 'the session is already with that agent');
    end if;
    select * into v_load from public.agent_load l where l.agent_id = v_target.id for update;
    if v_load.active_count >= v_target.max_concurrent then
      perform public.agent_fail('CONFLICT', 'the agent has no spare capacity');
    end if;
    perform public.agent_end_session_internal(v_session, 'transferred', v_me.id, now());
    insert into public.agent_sessions (org_id, conversation_id, agent_id, status, priority, required_skill,
      escalation_level, summary, assigned_by, transferred_from, queued_at, assigned_at, expires_at,
      last_customer_message_at)
    values (v_session.org_id, v_session.conversation_id, v_target.id, 'active', v_session.priority,
      v_session.required_skill, v_session.escalation_level, v_session.summary, v_me.id::text, v_session.id,
      now(), now(), v_session.expires_at, v_session.last_customer_message_at)
    returning id into v_new;
    update public.conversations c set status = 'agent', assigned_agent_id = v_target.id where c.id = v_session.conversation_id;
  else
    perform public.agent_end_session_internal(v_session, 'transferred', v_me.id, now());
    -- Back to the queue: the conversation trigger opens the new waiting session (and assigns it in
    -- 'auto' organisations) with the skill taken from metadata.
    update public.conversations c
      set status = 'queued', assigned_agent_id = null,
          metadata = c.metadata || jsonb_build_object('required_skill', v_skill)
      where c.id = v_session.conversation_id;
    select s.id into v_new from public.agent_sessions s
      where s.conversation_id = v_session.conversation_id and s.status in ('waiting', 'active');
    update public.agent_sessions s set transferred_from = v_session.id, expires_at = v_session.expires_at
      where s.id = v_new;
  end if;
  return jsonb_build_object('changed', true, 'previous_session_id', v_session.id, 'session', public.agent_session_json(v_new));
end
$$;
revoke execute on function public.agent_transfer(uuid, uuid, text) from public, anon;
grant execute on function public.agent_transfer(uuid, uuid, text) to authenticated, service_role;

-- Escalates a waiting or active session one level: level 1 raises the priority one step; level 2
-- routes a waiting session to supervisors. Any agent of the organisation may escalate the queue's
-- sessions and their own; a session at level 2 answers changed = false. Returns {"changed", "session"}.
-- Who may call: authenticated agents. Changes agent_sessions.
create or replace function public.agent_escalate(p_session_id uuid) returns jsonb
language plpgsql security definer set search_path = ''
as $$
declare
  v_me public.support_agents := public.agent_require_caller();
  v_session public.agent_sessions;
begin
  v_session := public.agent_lock_session(v_me, p_session_id);
  if v_session.status = 'active' and v_session.agent_id <> v_me.id and v_me.role <> 'supervisor' then
    perform public.agent_fail('FORBIDDEN', 'this session belongs to another agent');
  end if;
  if v_session.status = 'ended' then
    perform public.agent_fail('CONFLICT', 'the session has ended');
  end if;
  if v_session.escalation_level >= 2 then
    return jsonb_build_object('changed', false, 'session', public.agent_session_json(v_session.id));
  end if;
  update public.agent_sessions s
    set escalation_level = s.escalation_level + 1,
        priority = case when s.escalation_level = 0 then least(3, s.priority + 1) else s.priority end,
        escalated_at = now()
    where s.id = v_session.id;
  if v_session.status = 'waiting' and (public.agent_settings_for(v_session.org_id)).assignment_mode = 'auto' then
    perform public.assign_waiting_sessions(v_session.org_id, now(), 1, v_session.id, null);
  end if;
  return jsonb_build_object('changed', true, 'session', public.agent_session_json(v_session.id));
end
$$;
revoke execute on function public.agent_escalate(uuid) from public, anon;
grant execute on function public.agent_escalate(uuid) to authenticated, service_role;

-- An agent's reply: a message (sender 'agent') in the session's conversation and, for WhatsApp, an
-- outbox row in the same transaction (recipient the wa_id, idempotency key 'agent-reply:<key>').
-- p_client_key (the client's id for this reply) makes a retried POST find the first reply instead
-- of sending twice: it is the message's provider id 'agent:<session>:<key>'. Only the session's
-- agent may reply, on an active session (CONFLICT otherwise).
-- Returns {"duplicate", "message": {...}, "outbox_id"}. Who may call: authenticated agents.
-- Changes messages, outbox (and, by trigger, conversations, agent_sessions, agent_events).
create or replace function public.agent_reply(p_session_id uuid, p_body text, p_client_key text default null)
returns jsonb
language plpgsql security definer set search_path = ''
as $$
declare
  v_me public.support_agents := public.agent_require_caller();
  v_session public.agent_sessions;
  v_conv public.conversations;
  v_provider_id text;
  v_message public.messages;
  v_outbox bigint;
  v_duplicate boolean := false;
begin
  if p_body is null or length(btrim(p_body)) = 0 or length(p_body) > 4096 then
    perform public.agent_fail('BAD_REQUEST', 'text must be 1 to 4096 characters');
  end if;
  v_session := public.agent_lock_session(v_me, p_session_id);
  if v_session.agent_id is distinct from v_me.id then
    perform public.agent_fail('FORBIDDEN', 'only the session''s agent may reply');
  end if;
  v_provider_id := case when p_client_key is not null then format('agent:%s:%s', v_session.id, p_client_key) end;
  if v_provider_id is not null then
    select * into v_message from public.messages m where m.org_id = v_session.org_id and m.provider_message_id = v_provider_id;
    v_duplicate := found;
  end if;
  if not v_duplicate then
    if v_session.status <> 'active' then
      perform public.agent_fail('CONFLICT', format('the session is %s', v_session.status));
    end if;
    insert into public.messages (conversation_id, org_id, sender_type, body, provider_message_id, metadata, created_at)
    values (v_session.conversation_id, v_session.org_id, 'agent', p_body, v_provider_id,
            jsonb_build_object('agent_id', v_me.id, 'agent_name', v_me.display_name, 'session_id', v_session.id),
            clock_timestamp())
    returning * into v_message;
  end if;
  select * into v_conv from public.conversations c where c.id = v_session.conversation_id;
  if v_conv.channel = 'whatsapp' and v_conv.metadata ? 'wa_id' then
    insert into public.outbox (org_id, conversation_id, message_id, channel, recipient, payload, idempotency_key)
    values (v_conv.org_id, v_conv.id, v_message.id, 'whatsapp', v_conv.metadata ->> 'wa_id',
            jsonb_build_object('phone_number_id', v_conv.metadata ->> 'phone_number_id', 'text', v_message.body,
                               'buttons', '[]'::jsonb),
            'agent-reply:' || v_message.id)
    on conflict (org_id, idempotency_key) do nothing
    returning id into v_outbox;
    if v_outbox is null then
      select o.id into v_outbox from public.outbox o where o.org_id = v_conv.org_id and o.idempotency_key = 'agent-reply:' || v_message.id;
    end if;
  end if;
  return jsonb_build_object('duplicate', v_duplicate, 'outbox_id', v_outbox,
    'message', jsonb_build_object('id', v_message.id, 'sender', 'agent', 'body', v_message.body,
                                  'created_at', v_message.created_at, 'session_id', v_session.id));
end
$$;
revoke execute on function public.agent_reply(uuid, text, text) from public, anon;
grant execute on function public.agent_reply(uuid, text, text) to authenticated, service_role;

-- Queues a conversation of the caller's organisation for people (as the bot's hand-over does):
-- status 'queued' with p_priority (never lowered), p_summary, and p_skill required. An already
-- queued conversation keeps its session (changed = false). Returns {"changed", "session"}.
-- Who may call: authenticated agents. Changes conversations, conversation_actions, agent_sessions.
create or replace function public.agent_queue_conversation(
  p_conversation_id uuid, p_priority smallint default null, p_skill text default null, p_summary text default null)
returns jsonb
language plpgsql security definer set search_path = ''
as $$
declare
  v_me public.support_agents := public.agent_require_caller();
  v_conv public.conversations;
  v_changed boolean := false;
  v_session uuid;
begin
  if p_priority is not null and p_priority not between 0 and 3 then
    perform public.agent_fail('BAD_REQUEST', 'priority must be 0 to 3');
  end if;
  select * into v_conv from public.conversations c where c.id = p_conversation_id and c.org_id = v_me.org_id for update;
  if not found then
    perform public.agent_fail('NOT_FOUND', 'no such conversation');
  end if;
  if v_conv.channel = 'phone' then
    perform public.agent_fail('BAD_REQUEST', 'phone conversations cannot be queued for chat');
  end if;
  if v_conv.status in ('bot', 'resolved') then
    update public.conversations c
      set status = 'queued', priority = greatest(c.priority, coalesce(p_priority, c.priority)),
          summary = coalesce(nullif(btrim(p_summary), ''), c.summary),
          metadata = case when nullif(btrim(p_skill), '') is null then c.metadata - 'required_skill'
                          else c.metadata || jsonb_build_object('required_skill', btrim(p_skill)) end
      where c.id = p_conversation_id;
    v_changed := true;
  end if;
  insert into public.conversation_actions (org_id, conversation_id, type, source, changed, details)
  values (v_conv.org_id, v_conv.id, 'handoff_requested', 'agent', v_changed,
          jsonb_strip_nulls(jsonb_build_object('priority', p_priority, 'summary', p_summary, 'skill', p_skill,
                                               'agent_id', v_me.id)));
  select s.id into v_session from public.agent_sessions s
    where s.conversation_id = p_conversation_id and s.status in ('waiting', 'active');
  return jsonb_build_object('changed', v_changed, 'session', public.agent_session_json(v_session));
end
$$;
revoke execute on function public.agent_queue_conversation(uuid, smallint, text, text) from public, anon;
grant execute on function public.agent_queue_conversation(uuid, smallint, text, text) to authenticated, service_role;

-- Opens a live session with a customer's WhatsApp number (p_phone, any common format; the
-- organisation's default country applies to national numbers) on the organisation's first enabled
-- WhatsApp number, and gives it to the caller: the conversation is found or created like an
-- inbound message would, queued, and accepted. An open session of that conversation held by
-- someone else is CONFLICT. Returns {"changed", "session"}. Who may call: authenticated agents.
-- Changes conversations, agent_sessions.
create or replace function public.agent_start_whatsapp(p_phone text) returns jsonb
language plpgsql security definer set search_path = ''
as $$
declare
  v_me public.support_agents := public.agent_require_caller();
  v_number public.whatsapp_numbers;
  v_country text;
  v_phone text;
  v_wa_id text;
  v_conv uuid;
  v_session uuid;
begin
  select o.default_country into v_country from public.orgs o where o.id = v_me.org_id;
  v_phone := public.normalize_phone(p_phone, v_country);
  if v_phone is null then
    perform public.agent_fail('BAD_REQUEST', 'not a phone number');
  end if;
  select * into v_number from public.whatsapp_numbers n where n.org_id = v_me.org_id and n.enabled
    order by n.created_at, n.id limit 1;
  if not found then
    perform public.agent_fail('NOT_FOUND', 'the organisation has no WhatsApp number');
  end if;
  v_wa_id := ltrim(v_phone, '+');
  insert into public.conversations as cv (org_id, channel, external_id, customer_phone, metadata, client_id)
  values (v_me.org_id, 'whatsapp', v_number.phone_number_id || ':' || v_wa_id, v_phone,
          jsonb_build_object('phone_number_id', v_number.phone_number_id, 'wa_id', v_wa_id),
          (select case when count(*) = 1 then min(c.id::text)::uuid end from public.clients c
            where c.org_id = v_me.org_id and c.phone_e164 = v_phone))
  on conflict (org_id, channel, external_id) do update set metadata = cv.metadata
  returning cv.id into v_conv;
  perform 1 from public.conversations c where c.id = v_conv for update;
  select s.id into v_session from public.agent_sessions s where s.conversation_id = v_conv and s.status in ('waiting', 'active');
  if v_session is null then
    update public.conversations c set status = 'queued', metadata = c.metadata - 'required_skill'
      where c.id = v_conv and c.status in ('bot', 'resolved');
    select s.id into v_session from public.agent_sessions s where s.conversation_id = v_conv and s.status in ('waiting', 'active');
  end if;
  if v_session is null then
    perform public.agent_fail('CONFLICT', 'the conversation cannot be queued');
  end if;
  return public.agent_accept(v_session, null);
end
$$;
revoke execute on function public.agent_start_whatsapp(text) from public, anon;
grant execute on function public.agent_start_whatsapp(text) to authenticated, service_role;

-- The caller's own status. Coming online lets the database assign waiting sessions to them at once
-- in 'auto' organisations. Returns {"agent": {...}, "assigned": n}. Who may call: authenticated
-- agents. Changes support_agents, and what assignment changes.
create or replace function public.agent_set_status(p_status text) returns jsonb
language plpgsql security definer set search_path = ''
as $$
declare
  v_me public.support_agents := public.agent_require_caller();
  v_assigned int := 0;
begin
  if p_status not in ('online', 'away', 'offline') then
    perform public.agent_fail('BAD_REQUEST', 'status must be online, away or offline');
  end if;
  update public.support_agents a set status = p_status where a.id = v_me.id and a.status is distinct from p_status;
  if p_status = 'online' and (public.agent_settings_for(v_me.org_id)).assignment_mode = 'auto' then
    v_assigned := public.assign_waiting_sessions(v_me.org_id, now(), 50, null, v_me.id);
  end if;
  return jsonb_build_object('assigned', v_assigned, 'agent', public.agent_profile_json(v_me.id));
end
$$;

-- The agent as the API shows them, with their load. Who may call: authenticated agents (their own
-- organisation's agents only), the service role. Changes nothing.
create or replace function public.agent_profile_json(p_agent_id uuid) returns jsonb
language sql stable security definer set search_path = ''
as $$
  select jsonb_build_object('id', a.id, 'org_id', a.org_id, 'user_id', a.user_id, 'display_name', a.display_name,
    'email', a.email, 'role', a.role, 'status', a.status, 'skills', to_jsonb(a.skills),
    'max_concurrent', a.max_concurrent, 'active_sessions', l.active_count, 'timezone', a.timezone,
    'shifts', a.shifts, 'on_shift', public.agent_on_shift(a.shifts, a.timezone, now()),
    'status_changed_at', a.status_changed_at)
  from public.support_agents a left join public.agent_load l on l.agent_id = a.id
  where a.id = p_agent_id and (auth.uid() is null or a.org_id = public.current_agent_org_id())
$$;
revoke execute on function public.agent_profile_json(uuid) from public, anon;
grant execute on function public.agent_profile_json(uuid) to authenticated, service_role;
revoke execute on function public.agent_set_status(text) from public, anon;
grant execute on function public.agent_set_status(text) to authenticated, service_role;
