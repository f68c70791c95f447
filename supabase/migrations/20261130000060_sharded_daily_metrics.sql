-- The daily conversation rollup without a hot row. Until now every message of an organisation, on
-- any conversation, updated the same conversation_daily_metrics row (organisation, day, channel),
-- and held its lock until commit: every chat message of a busy organisation queued behind the
-- previous one's WAL flush. bench/whatsapp-webhook.mjs measured ingest at 30 tx/s with 64 writers on
-- one organisation (173 tx/s with the message triggers off).
--
-- Now the rows are shards: conversation_daily_metric_shards has one row per (organisation, day,
-- channel, shard), the shard being the writing connection's (pg_backend_pid() mod 16), so concurrent
-- writers update different rows and never wait for each other; a connection's own writes are serial
-- anyway. conversation_daily_metrics becomes a view summing the shards, with the same columns and
-- one row per (organisation, day, channel) as before: readers do not change. Only the two trigger
-- functions write the rollup; they are redefined here identically but for the shard.

alter table public.conversation_daily_metrics rename to conversation_daily_metric_shards;
alter table public.conversation_daily_metric_shards add column shard smallint not null default 0
  constraint conversation_daily_metric_shards_shard_range check (shard between 0 and 15);
alter table public.conversation_daily_metric_shards drop constraint conversation_daily_metrics_pkey;
alter table public.conversation_daily_metric_shards
  add constraint conversation_daily_metric_shards_pkey primary key (org_id, day, channel, shard);
comment on table public.conversation_daily_metric_shards is
  'Shards of the daily rollup (one per writing connection mod 16); read conversation_daily_metrics, which sums them.';

-- The shard a statement writes to. Who may call: the rollup triggers. Changes nothing.
create or replace function public.metric_shard() returns smallint
language sql volatile parallel safe
set search_path = ''
as $$
  select (pg_catalog.pg_backend_pid() % 16)::smallint
$$;
revoke execute on function public.metric_shard() from public, anon, authenticated;
grant execute on function public.metric_shard() to service_role;

create view public.conversation_daily_metrics with (security_invoker = true) as
  select s.org_id, s.day, s.channel,
    sum(s.conversations_started)::int as conversations_started,
    sum(s.conversations_resolved)::int as conversations_resolved,
    sum(s.conversations_abandoned)::int as conversations_abandoned,
    sum(s.conversations_expired)::int as conversations_expired,
    sum(s.customer_messages)::int as customer_messages,
    sum(s.bot_messages)::int as bot_messages,
    sum(s.agent_messages)::int as agent_messages,
    sum(s.system_messages)::int as system_messages,
    sum(s.first_responses)::int as first_responses,
    sum(s.first_response_seconds_total) as first_response_seconds_total,
    sum(s.resolution_seconds_total) as resolution_seconds_total
  from public.conversation_daily_metric_shards s
  group by s.org_id, s.day, s.channel;
comment on view public.conversation_daily_metrics is
  'Daily per-organisation rollup (sum of conversation_daily_metric_shards), kept by triggers on conversations and messages.';
revoke all on public.conversation_daily_metrics from anon, authenticated;
grant select on public.conversation_daily_metrics to authenticated, service_role;

-- Trigger on messages (after insert, once per statement): as in 20261123000300_conversations.sql,
-- writing the rollup to this connection's shard. Who may call: the trigger only.
-- Changes conversations and conversation_daily_metric_shards.
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
  insert into public.conversation_daily_metric_shards as d (org_id, day, channel, shard,
    customer_messages, bot_messages, agent_messages, system_messages)
  select m.org_id, (m.created_at at time zone coalesce(o.timezone, 'UTC'))::date as day, t.channel, public.metric_shard(),
    count(*) filter (where m.sender_type = 'customer'),
    count(*) filter (where m.sender_type = 'bot'),
    count(*) filter (where m.sender_type = 'agent'),
    count(*) filter (where m.sender_type = 'system')
  from new_messages m
  join touched t on t.id = m.conversation_id
  left join public.orgs o on o.id = m.org_id
  group by m.org_id, 2, t.channel
  order by m.org_id, 2, t.channel  -- rows locked in one order: concurrent writers cannot deadlock here
  on conflict (org_id, day, channel, shard) do update set
    customer_messages = d.customer_messages + excluded.customer_messages,
    bot_messages = d.bot_messages + excluded.bot_messages,
    agent_messages = d.agent_messages + excluded.agent_messages,
    system_messages = d.system_messages + excluded.system_messages;
  return null;
end
$$;
revoke execute on function public.update_conversation_metrics() from public, anon, authenticated, service_role;

-- Trigger on conversations (after insert or update, once per statement): as in
-- 20261123000300_conversations.sql, writing the rollup to this connection's shard.
-- Who may call: the trigger only. Changes conversation_daily_metric_shards.
create or replace function public.rollup_conversation_metrics() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    insert into public.conversation_daily_metric_shards as d (org_id, day, channel, shard, conversations_started,
      conversations_resolved, conversations_abandoned, conversations_expired, resolution_seconds_total,
      first_responses, first_response_seconds_total)
    select e.org_id, (e.at at time zone coalesce(o.timezone, 'UTC'))::date as day, e.channel, public.metric_shard(),
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
    on conflict (org_id, day, channel, shard) do update set
      conversations_started = d.conversations_started + excluded.conversations_started,
      conversations_resolved = d.conversations_resolved + excluded.conversations_resolved,
      conversations_abandoned = d.conversations_abandoned + excluded.conversations_abandoned,
      conversations_expired = d.conversations_expired + excluded.conversations_expired,
      resolution_seconds_total = d.resolution_seconds_total + excluded.resolution_seconds_total,
      first_responses = d.first_responses + excluded.first_responses,
      first_response_seconds_total = d.first_response_seconds_total + excluded.first_response_seconds_total;
  else
    insert into public.conversation_daily_metric_shards as d (org_id, day, channel, shard,
      conversations_resolved, conversations_abandoned, conversations_expired, resolution_seconds_total,
      first_responses, first_response_seconds_total)
    select e.org_id, (e.at at time zone coalesce(o.timezone, 'UTC'))::date as day, e.channel, public.metric_shard(),
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
    on conflict (org_id, day, channel, shard) do update set
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
