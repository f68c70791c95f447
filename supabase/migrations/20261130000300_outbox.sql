-- The outbox: one table for everything Switchboard sends to a customer's channel or to a provider
-- (a WhatsApp reply, later an agent's reply, a SalesIQ forward, a Zoho Desk call). A row is written
-- in the same transaction as what caused it, then delivered after the response by the sender for
-- its channel, retried with backoff and jitter, and never sent twice on purpose:
--   * idempotency_key is unique per organisation: asking twice to send the same thing (a replayed
--     webhook, a retried request) finds the row that exists;
--   * a sender claims a row with a lease (status 'sending', lease_token) under FOR UPDATE SKIP
--     LOCKED and must present the token to complete it, so two senders never both send one row;
--   * a row whose sender died is claimed again when its lease runs out. That is the one case where
--     a provider could receive a message twice (the sender sent it, then died before recording it);
--     each sender passes the row's idempotency key where its provider accepts one.
-- Failures stay visible: status 'failed' after max_attempts, with last_error; /health/detailed
-- counts undelivered rows (outbox_undelivered).

create table public.outbox (
  id bigint generated always as identity primary key,
  org_id uuid not null references public.orgs (id) on delete cascade,
  conversation_id uuid,
  -- The message this delivers, when it is one (a bot's or an agent's reply).
  message_id bigint references public.messages (id) on delete set null,
  -- Which sender delivers it: 'whatsapp', and later 'salesiq', 'zoho_desk', ...
  channel text not null,
  kind text not null default 'message',
  -- The channel's address of the recipient (a WhatsApp wa_id, ...).
  recipient text,
  payload jsonb not null default '{}'::jsonb,
  idempotency_key text not null,
  status text not null default 'pending',
  attempts int not null default 0,
  max_attempts int not null default 8,
  next_attempt_at timestamptz not null default now(),
  lease_token uuid,
  locked_until timestamptz,
  last_error text,
  -- The provider's id for what was sent (a wamid), and what the provider reported afterwards.
  provider_message_id text,
  delivery_status text,
  delivery_error text,
  created_at timestamptz not null default now(),
  sent_at timestamptz,
  updated_at timestamptz not null default now(),
  constraint outbox_status_valid check (status in ('pending', 'sending', 'sent', 'failed', 'cancelled')),
  constraint outbox_channel_format check (channel ~ '^[a-z][a-z0-9_]{0,31}$'),
  constraint outbox_kind_format check (kind ~ '^[a-z][a-z0-9_]{0,31}$'),
  constraint outbox_attempts_bounds check (attempts >= 0 and max_attempts between 1 and 50),
  constraint outbox_payload_object check (jsonb_typeof(payload) = 'object'),
  constraint outbox_delivery_status_valid
    check (delivery_status is null or delivery_status in ('sent', 'delivered', 'read', 'played', 'failed')),
  -- A lease exists exactly while a sender holds the row.
  constraint outbox_lease_consistent check ((status = 'sending') = (lease_token is not null)),
  constraint outbox_idempotency_unique unique (org_id, idempotency_key),
  foreign key (conversation_id, org_id) references public.conversations (id, org_id) on delete cascade
);
comment on table public.outbox is
  'Everything sent to a customer''s channel or a provider, delivered after the response with retries. See 20261130000300_outbox.sql.';
comment on constraint outbox_idempotency_unique on public.outbox is
  'Asking twice to send the same thing finds the existing row: nothing is queued twice.';
-- Serves claims of due rows, oldest first.
create index outbox_due_idx on public.outbox (next_attempt_at) where status in ('pending', 'sending');
-- Serves delivery statuses reported by providers (WhatsApp statuses[] carry the wamid).
create unique index outbox_provider_message_idx on public.outbox (channel, provider_message_id)
  where provider_message_id is not null;
create index outbox_conversation_idx on public.outbox (conversation_id, id) where conversation_id is not null;
create index outbox_org_created_idx on public.outbox (org_id, created_at);
-- Serves the "undelivered for 5 minutes" alert rule and /health/detailed: the rows not yet delivered, oldest first.
create index outbox_undelivered_age_idx on public.outbox (created_at) where status in ('pending', 'sending', 'failed');
create trigger outbox_touch before update on public.outbox
  for each row execute function public.touch_updated_at();

-- What is waiting or given up: for /health/detailed's queue depth and alert rules.
create view public.outbox_undelivered with (security_invoker = true) as
  select o.id, o.org_id, o.channel, o.status, o.attempts, o.created_at, o.next_attempt_at, o.last_error
  from public.outbox o where o.status in ('pending', 'sending', 'failed');

-- Claims rows to send: due pending rows, and rows whose sender's lease ran out; only the rows in
-- p_ids when given (the worker that just queued them), else the oldest due ones, at most p_limit.
-- Each claimed row gets status 'sending', a new lease_token, attempts + 1. The race it prevents: two
-- senders (the request that queued a reply and the sweep) sending the same row; SKIP LOCKED lets
-- each take different rows without waiting. Returns the rows with what their sender needs:
-- {"id", "org_id", "conversation_id", "message_id", "channel", "kind", "recipient", "payload",
--  "idempotency_key", "attempts", "max_attempts", "lease_token", "window_open" (the customer wrote
--  within 24 h), "credentials": {"access_token", "outside_window_template"} for WhatsApp rows}.
-- Who may call: the service role. Changes outbox.
create or replace function public.outbox_claim(
  p_ids bigint[] default null, p_limit int default 50, p_lease_seconds int default 60,
  p_channels text[] default null)
returns jsonb
language plpgsql security definer
set search_path = ''
as $$
declare
  v_rows jsonb;
begin
  with picked as (
    select o.id from public.outbox o
    where (p_ids is null or o.id = any (p_ids))
      and (p_channels is null or o.channel = any (p_channels))
      and ((o.status = 'pending' and o.next_attempt_at <= now())
        or (o.status = 'sending' and o.locked_until < now()))
    order by o.next_attempt_at, o.id
    limit greatest(1, least(p_limit, 500))
    for update skip locked
  ), claimed as (
    update public.outbox o
      set status = 'sending', attempts = o.attempts + 1, lease_token = gen_random_uuid(),
          locked_until = now() + make_interval(secs => p_lease_seconds)
      from picked where o.id = picked.id
      returning o.*
  )
  select coalesce(jsonb_agg(jsonb_build_object(
      'id', c.id, 'org_id', c.org_id, 'conversation_id', c.conversation_id, 'message_id', c.message_id,
      'channel', c.channel, 'kind', c.kind, 'recipient', c.recipient, 'payload', c.payload,
      'idempotency_key', c.idempotency_key, 'attempts', c.attempts, 'max_attempts', c.max_attempts,
      'lease_token', c.lease_token,
      'window_open', coalesce(cv.last_customer_message_at > now() - interval '24 hours', false),
      'credentials', case when c.channel = 'whatsapp' then jsonb_build_object(
          'access_token', w.access_token, 'outside_window_template', w.outside_window_template) end)
      order by c.id), '[]'::jsonb)
    into v_rows
  from claimed c
  left join public.conversations cv on cv.id = c.conversation_id
  left join public.whatsapp_numbers w on c.channel = 'whatsapp' and w.phone_number_id = c.payload ->> 'phone_number_id';
  return v_rows;
end
$$;
revoke execute on function public.outbox_claim(bigint[], int, int, text[]) from public, anon, authenticated;
grant execute on function public.outbox_claim(bigint[], int, int, text[]) to service_role;

-- Records what happened to a claimed row. p_outcome:
--   'sent'      delivered to the provider (p_provider_message_id: its id for it);
--   'retry'     a failure worth retrying: back to 'pending' in p_retry_in_seconds, or 'failed' once
--               max_attempts is reached;
--   'failed'    a failure retrying cannot fix (bad recipient, refused by the provider);
--   'cancelled' deliberately not sent (outside WhatsApp's 24-hour window with no template).
-- Only the current lease holder may record (returns false otherwise, changing nothing).
-- Who may call: the service role. Changes outbox.
create or replace function public.outbox_complete(
  p_id bigint, p_lease_token uuid, p_outcome text, p_provider_message_id text default null,
  p_error text default null, p_retry_in_seconds double precision default 30)
returns boolean
language plpgsql security definer
set search_path = ''
as $$
begin
  if p_outcome not in ('sent', 'retry', 'failed', 'cancelled') then
    raise exception 'outbox_complete: unknown outcome %', p_outcome using errcode = '22023';
  end if;
  update public.outbox o set
    status = case
      when p_outcome = 'retry' and o.attempts >= o.max_attempts then 'failed'
      when p_outcome = 'retry' then 'pending'
      else p_outcome end,
    lease_token = null,
    locked_until = null,
    next_attempt_at = case when p_outcome = 'retry'
      then now() + make_interval(secs => greatest(0, p_retry_in_seconds)) else o.next_attempt_at end,
    sent_at = case when p_outcome = 'sent' then now() else o.sent_at end,
    provider_message_id = coalesce(p_provider_message_id, o.provider_message_id),
    delivery_status = case when p_outcome = 'sent' then coalesce(o.delivery_status, 'sent') else o.delivery_status end,
    last_error = case when p_outcome = 'sent' then o.last_error else left(p_error, 500) end
  where o.id = p_id and o.lease_token = p_lease_token and o.status = 'sending';
  return found;
end
$$;
revoke execute on function public.outbox_complete(bigint, uuid, text, text, text, double precision) from public, anon, authenticated;
grant execute on function public.outbox_complete(bigint, uuid, text, text, text, double precision) to service_role;

-- Applies delivery statuses a provider reported: p_statuses is [{"id" (provider message id),
-- "status", "error"}]. Statuses may arrive out of order or be skipped ("read" without "delivered"):
-- a status only moves forward (sent < delivered < read/played), and 'failed' always wins.
-- Returns the number of rows changed. Who may call: the service role. Changes outbox.
create or replace function public.outbox_record_delivery(p_channel text, p_statuses jsonb) returns int
language plpgsql security definer
set search_path = ''
as $$
declare
  v_n int;
begin
  with s as (
    select e ->> 'id' as id, e ->> 'status' as status, left(e ->> 'error', 500) as error
    from jsonb_array_elements(coalesce(p_statuses, '[]'::jsonb)) e
    where e ->> 'status' in ('sent', 'delivered', 'read', 'played', 'failed')
  ), rank as (
    select * from (values ('sent', 1), ('delivered', 2), ('read', 3), ('played', 3), ('failed', 9)) r(status, n)
  )
  update public.outbox o set
    delivery_status = s.status,
    delivery_error = case when s.status = 'failed' then s.error else o.delivery_error end
  from s join rank rn on rn.status = s.status
  where o.channel = p_channel and o.provider_message_id = s.id
    and rn.n > coalesce((select r2.n from rank r2 where r2.status = o.delivery_status), 0);
  get diagnostics v_n = row_count;
  return v_n;
end
$$;
revoke execute on function public.outbox_record_delivery(text, jsonb) from public, anon, authenticated;
grant execute on function public.outbox_record_delivery(text, jsonb) to service_role;

-- Deletes the rows of p_table whose p_time_column is before p_cutoff and that match p_filter (a
-- fixed SQL condition written by the calling function, never input), oldest first, in DELETEs of at
-- most p_batch rows, at most p_max_batches of them per call. Returns the number deleted. The
-- retention tasks of tables that keep rows for a while after they are done (outbox, WhatsApp inbox,
-- the agents' feed events) share it; logs kept per organisation use purge_old_log_rows().
-- Who may call: those cleanup functions only (no grant). Changes p_table.
create or replace function public.delete_rows_before(
  p_table regclass, p_time_column text, p_cutoff timestamptz, p_filter text default 'true',
  p_batch int default 2000, p_max_batches int default 50)
returns bigint
language plpgsql
set search_path = ''
as $$
declare
  v_n int;
  v_total bigint := 0;
begin
  for i in 1..p_max_batches loop
    execute format('delete from %1$s t where t.ctid = any (array(
        select x.ctid from %1$s x where x.%2$I < $1 and (%3$s) order by x.%2$I limit $2))',
      p_table, p_time_column, p_filter)
      using p_cutoff, p_batch;
    get diagnostics v_n = row_count;
    v_total := v_total + v_n;
    exit when v_n < p_batch;
  end loop;
  return v_total;
end
$$;
revoke execute on function public.delete_rows_before(regclass, text, timestamptz, text, int, int)
  from public, anon, authenticated, service_role;

-- Deletes delivered, cancelled and failed rows created more than 30 days before p_now. Returns the
-- number deleted. Who may call: the service role, run_maintenance_tasks(). Changes outbox.
create or replace function public.cleanup_old_outbox(p_now timestamptz default now()) returns bigint
language sql security definer
set search_path = ''
as $$
  select public.delete_rows_before('public.outbox', 'created_at', p_now - interval '30 days',
                                   $f$x.status in ('sent', 'cancelled', 'failed')$f$)
$$;
revoke execute on function public.cleanup_old_outbox(timestamptz) from public, anon, authenticated;
grant execute on function public.cleanup_old_outbox(timestamptz) to service_role;

insert into public.maintenance_tasks (name, position, call, analyzed_table) values
  ('old_outbox', 80, 'select public.cleanup_old_outbox($1)', 'public.outbox')
on conflict (name) do update set call = excluded.call, position = excluded.position;

alter table public.outbox enable row level security;
create policy outbox_member_read on public.outbox for select to authenticated
  using (org_id in (select public.user_org_ids()));
revoke all on public.outbox, public.outbox_undelivered from anon, authenticated;
grant select (id, org_id, conversation_id, message_id, channel, kind, recipient, status, attempts, max_attempts,
              next_attempt_at, last_error, provider_message_id, delivery_status, delivery_error, created_at,
              sent_at, updated_at)
  on public.outbox to authenticated;
grant select on public.outbox_undelivered to authenticated;
grant all on public.outbox to service_role;
grant select on public.outbox_undelivered to service_role;
