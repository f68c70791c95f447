-- The WhatsApp inbox: what whatsapp-webhook writes before it answers Meta. Storing a message in the
-- conversation (whatsapp_ingest: the conversation, the client match, the message with its triggers
-- for counters, rollups and agent sessions, the job) costs milliseconds of triggers; Meta only needs
-- to know that the message is durably ours. So the webhook inserts the parsed messages here, one
-- statement for the whole event, and answers; the same request then moves them into their
-- conversations in the background (whatsapp_process_inbox), and the sweep moves whatever a killed
-- isolate left behind. A message is still stored once: the inbox is unique on the business number
-- and wamid, and keeps moved rows for 7 days (Meta retries for up to 7 days), so a replay is known
-- at once, however late; an older wamid already in messages is not taken in again; and
-- whatsapp_ingest skips a replay too.

create table public.whatsapp_inbox (
  id bigint generated always as identity primary key,
  phone_number_id text not null,
  wamid text not null,
  -- The parsed message: {"wamid", "from", "name", "body", "metadata", "timestamp"} (whatsapp_ingest's input).
  message jsonb not null,
  received_at timestamptz not null default now(),
  -- Set when the message was moved into its conversation; the row is kept 7 days to catch replays.
  moved_at timestamptz,
  constraint whatsapp_inbox_message_object check (jsonb_typeof(message) = 'object'),
  constraint whatsapp_inbox_wamid_unique unique (phone_number_id, wamid)
);
comment on table public.whatsapp_inbox is
  'WhatsApp messages accepted by the webhook; moved into conversations by whatsapp_process_inbox(), kept 7 days for replays.';
-- Serves whatsapp_process_inbox() and the sweep: the messages not moved yet, oldest first.
create index whatsapp_inbox_pending_idx on public.whatsapp_inbox (received_at) where moved_at is null;
-- Serves the retention task.
create index whatsapp_inbox_moved_idx on public.whatsapp_inbox (moved_at) where moved_at is not null;

-- Accepts the messages of one webhook change for the business number p_phone_number_id into the
-- inbox, in one statement: messages already in the inbox or already stored in a conversation are
-- replays and are not taken. Returns {"known": false} for a number no enabled organisation has
-- registered (nothing is written), else {"known": true, "accepted": [inbox ids], "duplicates": n}.
-- Who may call: the service role (whatsapp-webhook). Changes whatsapp_inbox.
create or replace function public.whatsapp_accept(p_phone_number_id text, p_messages jsonb) returns jsonb
language plpgsql security definer
set search_path = ''
as $$
declare
  v_org uuid;
  v_ids bigint[];
begin
  select n.org_id into v_org from public.whatsapp_numbers n where n.phone_number_id = p_phone_number_id and n.enabled;
  if v_org is null then
    return jsonb_build_object('known', false);
  end if;
  with input as (
    select e as message, e ->> 'wamid' as wamid from jsonb_array_elements(coalesce(p_messages, '[]'::jsonb)) e
  ), taken as (
    insert into public.whatsapp_inbox (phone_number_id, wamid, message)
    select p_phone_number_id, i.wamid, i.message from input i
    where i.wamid is not null
      and not exists (select 1 from public.messages m where m.org_id = v_org and m.provider_message_id = i.wamid)
    on conflict (phone_number_id, wamid) do nothing
    returning id
  )
  select coalesce(array_agg(t.id order by t.id), '{}') into v_ids from taken t;
  return jsonb_build_object('known', true, 'accepted', to_jsonb(v_ids),
    'duplicates', jsonb_array_length(coalesce(p_messages, '[]'::jsonb)) - cardinality(v_ids));
end
$$;
revoke execute on function public.whatsapp_accept(text, jsonb) from public, anon, authenticated;
grant execute on function public.whatsapp_accept(text, jsonb) to service_role;

-- Moves inbox rows into their conversations with whatsapp_ingest() and marks them moved, in one
-- transaction: the rows in p_ids (the request that accepted them), else up to p_limit rows received
-- more than p_grace ago (left by a worker that died). Rows another worker is moving are skipped
-- (FOR UPDATE SKIP LOCKED: the request and the sweep never move one row twice). Returns
-- {"moved": n, "conversations": [ids with a new message to answer]}.
-- Who may call: the service role. Changes whatsapp_inbox, and what whatsapp_ingest changes.
create or replace function public.whatsapp_process_inbox(
  p_ids bigint[] default null, p_limit int default 200, p_grace interval default interval '5 seconds')
returns jsonb
language plpgsql security definer
set search_path = ''
as $$
declare
  v_group record;
  v_result jsonb;
  v_moved int := 0;
  v_conversations uuid[] := '{}';
  v_item jsonb;
begin
  for v_group in
    with picked as (
      select i.id, i.phone_number_id, i.message from public.whatsapp_inbox i
      where i.moved_at is null
        and ((p_ids is not null and i.id = any (p_ids))
          or (p_ids is null and i.received_at < now() - p_grace))
      order by i.id
      limit case when p_ids is null then greatest(1, p_limit) else null end
      for update skip locked
    ), gone as (
      update public.whatsapp_inbox i set moved_at = now() from picked p where i.id = p.id
      returning p.id, p.phone_number_id, p.message
    )
    select g.phone_number_id, jsonb_agg(g.message order by g.id) as messages, count(*) as n
    from gone g group by g.phone_number_id
  loop
    v_result := public.whatsapp_ingest(v_group.phone_number_id, v_group.messages);
    v_moved := v_moved + v_group.n;
    for v_item in select * from jsonb_array_elements(coalesce(v_result -> 'results', '[]'::jsonb)) loop
      if not (v_item ->> 'duplicate')::boolean then
        v_conversations := array_append(v_conversations, (v_item ->> 'conversation_id')::uuid);
      end if;
    end loop;
  end loop;
  return jsonb_build_object('moved', v_moved,
    'conversations', to_jsonb(array(select distinct c from unnest(v_conversations) c)));
end
$$;
revoke execute on function public.whatsapp_process_inbox(bigint[], int, interval) from public, anon, authenticated;
grant execute on function public.whatsapp_process_inbox(bigint[], int, interval) to service_role;

-- Deletes inbox rows moved more than 7 days before p_now (Meta retries a delivery for up to 7
-- days). Returns the number deleted. Who may call: the service role, run_maintenance_tasks().
-- Changes whatsapp_inbox.
create or replace function public.cleanup_whatsapp_inbox(p_now timestamptz default now()) returns bigint
language sql security definer
set search_path = ''
as $$
  select public.delete_rows_before('public.whatsapp_inbox', 'moved_at', p_now - interval '7 days')
$$;
revoke execute on function public.cleanup_whatsapp_inbox(timestamptz) from public, anon, authenticated;
grant execute on function public.cleanup_whatsapp_inbox(timestamptz) to service_role;

insert into public.maintenance_tasks (name, position, call, analyzed_table) values
  ('whatsapp_inbox', 85, 'select public.cleanup_whatsapp_inbox($1)', 'public.whatsapp_inbox')
on conflict (name) do update set call = excluded.call, position = excluded.position;

alter table public.whatsapp_inbox enable row level security;
revoke all on public.whatsapp_inbox from anon, authenticated;
grant all on public.whatsapp_inbox to service_role;
