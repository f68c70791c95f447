-- Zoho SalesIQ (a chat channel) and Zoho Desk (where callbacks are carried out), per organisation.
-- Adds:
--   * the 'salesiq' conversation channel (a SalesIQ chat is one conversation, keyed by SalesIQ's
--     conversation id);
--   * zoho_settings: which organisation a SalesIQ webhook URL belongs to (its webhook_key), the
--     SalesIQ portal (screen name), department, signing key, the Desk organisation and department,
--     and each product's base URLs (data centre). Empty columns fall back to the environment
--     (SALESIQ_*, DESK_*, ZOHO_ACCOUNTS_URL, ...), the single-organisation default;
--   * zoho_credentials: per organisation and product, the OAuth client and refresh token (when the
--     organisation has its own) and the cached access token, all sealed with AES-GCM by the functions
--     (never stored in clear: a CHECK refuses anything that is not a sealed value), plus the
--     single-flight refresh lease: when many requests meet an expired token at once, one refreshes
--     and the others wait for its result (Zoho allows about 10 refreshes per 10 minutes per refresh
--     token), with that quota counted here;
--   * callbacks of organisations with Desk turned on are handed to Desk through the outbox (one row
--     per callback, idempotency key 'desk-call:<callback id>'); the Desk contact and call ids are kept
--     on the callback so that a retried delivery never creates a second call;
--   * SalesIQ replies that the webhook may still answer itself wait (payload.hold_seconds) before a
--     sender may take them; a resolved SalesIQ conversation queues SalesIQ's close call.

-- ---------------------------------------------------------------------------------------------
-- Channel
-- ---------------------------------------------------------------------------------------------
alter table public.conversations drop constraint conversations_channel_valid;
alter table public.conversations add constraint conversations_channel_valid
  check (channel in ('phone', 'web', 'whatsapp', 'sms', 'email', 'salesiq'));

-- ---------------------------------------------------------------------------------------------
-- Settings and credentials
-- ---------------------------------------------------------------------------------------------
create table public.zoho_settings (
  org_id uuid primary key references public.orgs (id) on delete cascade,
  -- The last segment of the Zobot webhook URL: functions/v1/salesiq-webhook/<webhook_key>.
  webhook_key text not null,
  salesiq_enabled boolean not null default true,
  -- SalesIQ's own org_id as it appears in webhook payloads; when set, other values are refused.
  salesiq_org_id text,
  salesiq_screen_name text,
  -- The department a hand-over is forwarded to (SALESIQ_VISITOR_DEPARTMENT when empty).
  salesiq_department text,
  -- PEM or Base64 SPKI public key(s) for x-siqsignature (two during a rotation, newline-separated
  -- PEM blocks). When set (here or SALESIQ_WEBHOOK_PUBLIC_KEY), unsigned requests are refused.
  salesiq_public_key text,
  desk_enabled boolean not null default false,
  desk_org_id text,
  desk_department_id text,
  -- Data centre: base URLs, e.g. https://accounts.zoho.eu, https://salesiq.zoho.eu, https://desk.zoho.eu.
  accounts_url text,
  salesiq_api_url text,
  desk_api_url text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- The key is part of a URL and is what tells organisations apart: long enough not to be guessed.
  constraint zoho_settings_webhook_key_format check (webhook_key ~ '^[A-Za-z0-9_-]{8,128}$'),
  constraint zoho_settings_webhook_key_unique unique (webhook_key),
  constraint zoho_settings_urls check (
    (accounts_url is null or accounts_url ~ '^https?://[^\s/]+(:[0-9]+)?(/[^\s]*)?$')
    and (salesiq_api_url is null or salesiq_api_url ~ '^https?://[^\s/]+(:[0-9]+)?(/[^\s]*)?$')
    and (desk_api_url is null or desk_api_url ~ '^https?://[^\s/]+(:[0-9]+)?(/[^\s]*)?$'))
);
comment on table public.zoho_settings is
  'Zoho SalesIQ and Desk per organisation; empty columns use the environment. See 20261130000800_zoho.sql.';
comment on constraint zoho_settings_webhook_key_unique on public.zoho_settings is
  'One organisation per webhook URL.';
create trigger zoho_settings_touch before update on public.zoho_settings
  for each row execute function public.touch_updated_at();

create table public.zoho_credentials (
  org_id uuid not null references public.orgs (id) on delete cascade,
  product text not null,
  -- The organisation's own OAuth client and refresh token; null means the environment's
  -- (SALESIQ_CLIENT_ID / SALESIQ_CLIENT_SECRET / SALESIQ_REFRESH_TOKEN, DESK_*).
  client_id text,
  client_secret_sealed text,
  refresh_token_sealed text,
  -- The cached access token and when it stops working.
  access_token_sealed text,
  access_expires_at timestamptz,
  -- Bumped by every refresh: a caller that met an invalid token says which version it had, and a
  -- newer one means someone else already refreshed.
  token_version int not null default 0,
  -- The single-flight refresh: set while one caller refreshes; the others wait for it.
  refresh_lease uuid,
  refresh_lease_until timestamptz,
  -- Refreshes in the current 10-minute window (Zoho: about 10 access tokens per 10 minutes).
  refresh_window_start timestamptz,
  refresh_count int not null default 0,
  last_refresh_at timestamptz,
  last_error text,
  last_error_at timestamptz,
  updated_at timestamptz not null default now(),
  primary key (org_id, product),
  constraint zoho_credentials_product_valid check (product in ('salesiq', 'desk')),
  -- Secrets are sealed by the functions (AES-GCM, 'v1.<iv>.<ciphertext>'): a clear-text token
  -- cannot be stored here by mistake.
  constraint zoho_credentials_sealed check (
    (client_secret_sealed is null or client_secret_sealed ~ '^v1\.[A-Za-z0-9+/=_-]+\.[A-Za-z0-9+/=_-]+$')
    and (refresh_token_sealed is null or refresh_token_sealed ~ '^v1\.[A-Za-z0-9+/=_-]+\.[A-Za-z0-9+/=_-]+$')
    and (access_token_sealed is null or access_token_sealed ~ '^v1\.[A-Za-z0-9+/=_-]+\.[A-Za-z0-9+/=_-]+$')),
  constraint zoho_credentials_lease_consistent check ((refresh_lease is null) = (refresh_lease_until is null))
);
comment on table public.zoho_credentials is
  'Zoho OAuth clients, refresh tokens and cached access tokens per organisation and product, sealed (AES-GCM).';
comment on constraint zoho_credentials_sealed on public.zoho_credentials is
  'Only sealed values are stored: never a token in clear.';
create trigger zoho_credentials_touch before update on public.zoho_credentials
  for each row execute function public.touch_updated_at();

-- The Desk side of a callback: the contact it was filed under, and when a call was last attempted
-- (a retry after an unknown outcome looks in Desk before creating).
alter table public.callbacks add column provider_contact_ref text;
alter table public.callbacks add column provider_attempted_at timestamptz;
-- callbacks is audited: its update trigger must compare the new columns too.
select public.enable_audit('public.callbacks');

-- ---------------------------------------------------------------------------------------------
-- SalesIQ ingest
-- ---------------------------------------------------------------------------------------------

-- The settings of the organisation whose webhook key is p_key, for the webhook: {"org_id",
-- "salesiq_enabled", "salesiq_org_id", "salesiq_public_key", "salesiq_department", "desk_enabled"}
-- or null. Who may call: the service role (salesiq-webhook). Changes nothing.
create or replace function public.salesiq_settings_for_key(p_key text) returns jsonb
language sql stable security definer
set search_path = ''
as $$
  select jsonb_build_object('org_id', s.org_id, 'salesiq_enabled', s.salesiq_enabled,
                            'salesiq_org_id', s.salesiq_org_id, 'salesiq_public_key', s.salesiq_public_key,
                            'salesiq_department', s.salesiq_department, 'desk_enabled', s.desk_enabled)
  from public.zoho_settings s where s.webhook_key = p_key
$$;
revoke execute on function public.salesiq_settings_for_key(text) from public, anon, authenticated;
grant execute on function public.salesiq_settings_for_key(text) to service_role;

-- Stores one visitor message of a SalesIQ chat for organisation p_org_id. p_event: {"conversation_id"
-- (SalesIQ's), "request_id", "text", "metadata", "visitor": {"name", "email", "phone", "id"}}. The
-- conversation (channel 'salesiq', external_id SalesIQ's conversation id) is created on the first
-- message; the message's provider id is 'salesiq:<request_id>', so a replayed request is stored once.
-- Returns chat_add_customer_message's answer plus {"conversation_id", "org_id"}.
-- Who may call: the service role (salesiq-webhook). Changes conversations, messages, inbound_jobs.
create or replace function public.salesiq_ingest(p_org_id uuid, p_event jsonb) returns jsonb
language plpgsql security definer
set search_path = ''
as $$
declare
  v_country text;
  v_phone text;
  v_clients uuid[];
  v_conversation uuid;
  v_visitor jsonb := coalesce(p_event -> 'visitor', '{}'::jsonb);
begin
  if coalesce(p_event ->> 'conversation_id', '') = '' then
    return jsonb_build_object('error', 'conversation_id_missing');
  end if;
  select o.default_country into v_country from public.orgs o where o.id = p_org_id;
  if not found then
    return jsonb_build_object('error', 'org_not_found');
  end if;
  v_phone := case when coalesce(v_visitor ->> 'phone', '') <> '' then public.normalize_phone(v_visitor ->> 'phone', v_country) end;
  if v_phone is not null then
    select array_agg(c.id) into v_clients
      from (select c.id from public.clients c where c.org_id = p_org_id and c.phone_e164 = v_phone limit 2) c;
  end if;
  insert into public.conversations as cv (org_id, channel, external_id, client_id, customer_phone, metadata)
  values (p_org_id, 'salesiq', p_event ->> 'conversation_id',
          case when cardinality(v_clients) = 1 then v_clients[1] end, v_phone,
          jsonb_strip_nulls(jsonb_build_object(
            'customer_name', nullif(btrim(left(v_visitor ->> 'name', 200)), ''),
            'customer_email', nullif(btrim(left(v_visitor ->> 'email', 320)), ''),
            'salesiq_visitor_id', nullif(left(v_visitor ->> 'id', 200), ''))))
  on conflict (org_id, channel, external_id) do update
    set metadata = cv.metadata || excluded.metadata,
        customer_phone = coalesce(cv.customer_phone, excluded.customer_phone)
  returning cv.id into v_conversation;
  return public.chat_add_customer_message(
    v_conversation, coalesce(p_event ->> 'text', ''),
    case when coalesce(p_event ->> 'request_id', '') <> '' then 'salesiq:' || (p_event ->> 'request_id') end,
    coalesce(p_event -> 'metadata', '{}'::jsonb)) || jsonb_build_object('org_id', p_org_id);
end
$$;
revoke execute on function public.salesiq_ingest(uuid, jsonb) from public, anon, authenticated;
grant execute on function public.salesiq_ingest(uuid, jsonb) to service_role;

-- The webhook answered these replies itself (in its HTTP answer): their outbox rows are marked sent
-- without a sender, provided no sender has taken them yet. Returns how many were taken; fewer than
-- asked means a sender is delivering them and the webhook must answer 'pending'.
-- Who may call: the service role (salesiq-webhook). Changes outbox.
create or replace function public.salesiq_take_inline(p_ids bigint[], p_request_id text) returns int
language plpgsql security definer
set search_path = ''
as $$
declare
  v_n int;
begin
  update public.outbox o
    set status = 'sent', sent_at = now(), delivery_status = 'sent', last_error = null,
        provider_message_id = 'inline:' || left(coalesce(p_request_id, ''), 200) || ':' || o.id
    where o.id = any (p_ids) and o.channel = 'salesiq' and o.status = 'pending';
  get diagnostics v_n = row_count;
  return v_n;
end
$$;
revoke execute on function public.salesiq_take_inline(bigint[], text) from public, anon, authenticated;
grant execute on function public.salesiq_take_inline(bigint[], text) to service_role;

-- Makes held outbox rows due now (the webhook answered 'pending' and the reply is ready): the rows
-- of p_ids still pending. Returns their ids. Who may call: the service role. Changes outbox.
create or replace function public.outbox_release(p_ids bigint[]) returns bigint[]
language sql security definer
set search_path = ''
as $$
  with r as (
    update public.outbox o set next_attempt_at = now()
    where o.id = any (p_ids) and o.status = 'pending'
    returning o.id)
  select coalesce(array_agg(r.id order by r.id), '{}') from r
$$;
revoke execute on function public.outbox_release(bigint[]) from public, anon, authenticated;
grant execute on function public.outbox_release(bigint[]) to service_role;

-- Outbox rows whose payload has hold_seconds (1-120) are not due before then: the SalesIQ webhook
-- answers in its HTTP response when it can, and only otherwise lets a sender deliver them.
-- Who may call: the trigger. Changes the new outbox row.
create or replace function public.outbox_apply_hold() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if (new.payload ->> 'hold_seconds') ~ '^[0-9]{1,3}$' then
    new.next_attempt_at := greatest(new.next_attempt_at,
      now() + make_interval(secs => least(120, (new.payload ->> 'hold_seconds')::int)));
  end if;
  return new;
end
$$;
create trigger outbox_hold before insert on public.outbox
  for each row when (new.payload ? 'hold_seconds') execute function public.outbox_apply_hold();

-- A SalesIQ conversation that becomes resolved (the bot closed it, an agent did, or it was abandoned)
-- queues SalesIQ's close call, 2 s later than the reply that says goodbye. One row per resolution.
-- Who may call: the trigger. Changes outbox.
create or replace function public.salesiq_queue_close() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  insert into public.outbox (org_id, conversation_id, channel, kind, recipient, payload, idempotency_key)
  values (new.org_id, new.id, 'salesiq', 'close', new.external_id, jsonb_build_object('hold_seconds', 2),
          format('salesiq-close:%s:%s', new.id, extract(epoch from coalesce(new.resolved_at, now()))::bigint))
  on conflict (org_id, idempotency_key) do nothing;
  return null;
end
$$;
create trigger conversations_salesiq_close after update of status on public.conversations
  for each row when (new.channel = 'salesiq' and new.status = 'resolved' and old.status is distinct from 'resolved'
                     and new.external_id is not null)
  execute function public.salesiq_queue_close();

-- ---------------------------------------------------------------------------------------------
-- Desk: callbacks handed over through the outbox
-- ---------------------------------------------------------------------------------------------

-- A callback of an organisation with Desk turned on is carried out in Desk: provider 'zoho_desk'.
-- Who may call: the trigger. Changes the new callback row.
create or replace function public.callbacks_pick_provider() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if new.provider = 'stored' and exists (
      select 1 from public.zoho_settings s where s.org_id = new.org_id and s.desk_enabled) then
    new.provider := 'zoho_desk';
    new.provider_status := 'queued';
  end if;
  return new;
end
$$;
create trigger callbacks_pick_provider before insert on public.callbacks
  for each row execute function public.callbacks_pick_provider();

-- Queues the Desk call of a new zoho_desk callback, once (idempotency key 'desk-call:<id>').
-- Who may call: the trigger. Changes outbox.
create or replace function public.callbacks_queue_desk_call() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  insert into public.outbox (org_id, conversation_id, channel, kind, recipient, payload, idempotency_key)
  values (new.org_id, new.conversation_id, 'zoho_desk', 'desk_call', new.phone,
          jsonb_build_object('callback_id', new.id), 'desk-call:' || new.id)
  on conflict (org_id, idempotency_key) do nothing;
  return null;
end
$$;
create trigger callbacks_queue_desk_call after insert on public.callbacks
  for each row when (new.provider = 'zoho_desk') execute function public.callbacks_queue_desk_call();

-- What the Desk sender needs for one callback: the callback, its conversation's channel and the
-- organisation's Desk settings: {"callback": {...}, "settings": {...}} or null.
-- Who may call: the service role (the Desk sender). Changes nothing.
create or replace function public.zoho_desk_callback(p_callback_id uuid) returns jsonb
language sql stable security definer
set search_path = ''
as $$
  select jsonb_build_object(
    'callback', jsonb_build_object('id', cb.id, 'org_id', cb.org_id, 'conversation_id', cb.conversation_id,
      'status', cb.status, 'scheduled_for', cb.scheduled_for, 'timezone', cb.timezone, 'phone', cb.phone,
      'subject', cb.subject, 'description', cb.description, 'customer_name', cb.customer_name,
      'customer_email', cb.customer_email, 'provider', cb.provider, 'provider_ref', cb.provider_ref,
      'provider_status', cb.provider_status, 'provider_contact_ref', cb.provider_contact_ref,
      'provider_attempted_at', cb.provider_attempted_at, 'channel', c.channel),
    'settings', to_jsonb(s) - 'salesiq_public_key')
  from public.callbacks cb
  join public.conversations c on c.id = cb.conversation_id
  left join public.zoho_settings s on s.org_id = cb.org_id
  where cb.id = p_callback_id
$$;
revoke execute on function public.zoho_desk_callback(uuid) from public, anon, authenticated;
grant execute on function public.zoho_desk_callback(uuid) to service_role;

-- Records a step of the Desk hand-over of a callback. p_step: 'contact' (p_ref: the Desk contact
-- id), 'attempt' (a call is about to be created: provider_attempted_at = now()), 'created' (p_ref:
-- the Desk call id; never replaced once set), 'failed' (p_ref: the reason).
-- Who may call: the service role (the Desk sender). Changes callbacks.
create or replace function public.zoho_desk_record(p_callback_id uuid, p_step text, p_ref text default null)
returns boolean
language plpgsql security definer
set search_path = ''
as $$
begin
  if p_step = 'contact' then
    update public.callbacks set provider_contact_ref = left(p_ref, 64) where id = p_callback_id;
  elsif p_step = 'attempt' then
    update public.callbacks set provider_attempted_at = now(), provider_status = 'creating' where id = p_callback_id;
  elsif p_step = 'created' then
    update public.callbacks set provider_ref = coalesce(provider_ref, left(p_ref, 64)), provider_status = 'created'
      where id = p_callback_id;
  elsif p_step = 'failed' then
    update public.callbacks set provider_status = left('failed: ' || coalesce(p_ref, ''), 200) where id = p_callback_id;
  else
    raise exception 'zoho_desk_record: unknown step %', p_step using errcode = '22023';
  end if;
  return found;
end
$$;
revoke execute on function public.zoho_desk_record(uuid, text, text) from public, anon, authenticated;
grant execute on function public.zoho_desk_record(uuid, text, text) to service_role;

-- What the SalesIQ sender needs for one outbox row: the organisation's settings, and for a reply
-- the action of the turn that wrote it ('forward' after a hand-over the turn made, else 'reply')
-- and whether it is the turn's last reply (earlier ones go out as progress messages).
-- Who may call: the service role (the SalesIQ sender). Changes nothing.
create or replace function public.salesiq_send_context(p_outbox_id bigint) returns jsonb
language sql stable security definer
set search_path = ''
as $$
  select jsonb_build_object(
    'settings', to_jsonb(s) - 'salesiq_public_key',
    'action', case when exists (
        select 1 from public.conversation_actions a
        where a.conversation_id = o.conversation_id and a.type = 'handoff_requested' and a.changed
          and a.message_id = (m.metadata ->> 'reply_to')::bigint) then 'forward' else 'reply' end,
    'last', not exists (
        select 1 from public.outbox o2
        where o2.conversation_id = o.conversation_id and o2.channel = 'salesiq' and o2.kind = 'message'
          and o2.id > o.id and o2.payload ->> 'request_id' = o.payload ->> 'request_id'),
    'earlier_pending', exists (
        select 1 from public.outbox o3
        where o3.conversation_id = o.conversation_id and o3.channel = 'salesiq' and o3.kind = 'message'
          and o3.id < o.id and o3.status in ('pending', 'sending')))
  from public.outbox o
  left join public.messages m on m.id = o.message_id
  left join public.zoho_settings s on s.org_id = o.org_id
  where o.id = p_outbox_id
$$;
revoke execute on function public.salesiq_send_context(bigint) from public, anon, authenticated;
grant execute on function public.salesiq_send_context(bigint) to service_role;

-- ---------------------------------------------------------------------------------------------
-- OAuth: cached tokens and a single-flight refresh
-- ---------------------------------------------------------------------------------------------

-- The credentials row of (p_org_id, p_product), created empty on first use: {"client_id",
-- "client_secret_sealed", "refresh_token_sealed", "access_token_sealed", "access_expires_at",
-- "token_version", "settings": {...}}. Who may call: the service role. Changes zoho_credentials.
create or replace function public.zoho_token_get(p_org_id uuid, p_product text) returns jsonb
language plpgsql security definer
set search_path = ''
as $$
declare
  v_row public.zoho_credentials;
begin
  select * into v_row from public.zoho_credentials c where c.org_id = p_org_id and c.product = p_product;
  if not found then
    insert into public.zoho_credentials (org_id, product) values (p_org_id, p_product)
    on conflict do nothing;
    select * into v_row from public.zoho_credentials c where c.org_id = p_org_id and c.product = p_product;
  end if;
  return jsonb_build_object('client_id', v_row.client_id, 'client_secret_sealed', v_row.client_secret_sealed,
    'refresh_token_sealed', v_row.refresh_token_sealed, 'access_token_sealed', v_row.access_token_sealed,
    'access_expires_at', v_row.access_expires_at, 'token_version', v_row.token_version,
    'settings', (select to_jsonb(s) - 'salesiq_public_key' from public.zoho_settings s where s.org_id = p_org_id));
end
$$;
revoke execute on function public.zoho_token_get(uuid, text) from public, anon, authenticated;
grant execute on function public.zoho_token_get(uuid, text) to service_role;

-- Asks to refresh the access token of (p_org_id, p_product) after a caller met version
-- p_seen_version invalid or expired. Answers, in one short transaction on the row (FOR UPDATE: the
-- race it prevents is many isolates refreshing at once and spending Zoho's refresh quota):
--   {"state": "fresh", "access_token_sealed", "token_version"}: someone refreshed since: use it;
--   {"state": "wait"}: another caller holds the refresh lease: ask again shortly;
--   {"state": "refresh", "lease", "client_id", "client_secret_sealed", "refresh_token_sealed"}:
--     the caller refreshes, then calls zoho_refresh_complete or zoho_refresh_fail with the lease;
--   {"state": "failed", "error"}: a refresh failed after this caller's token was issued (no retry
--     storm: the caller gives up and its outbox row retries later);
--   {"state": "quota"}: c_quota refreshes already in this 10-minute window.
-- Who may call: the service role. Changes zoho_credentials.
create or replace function public.zoho_refresh_begin(
  p_org_id uuid, p_product text, p_seen_version int, p_lease_seconds int default 15,
  p_now timestamptz default now())
returns jsonb
language plpgsql security definer
set search_path = ''
as $$
declare
  -- Zoho: a refresh token mints at most 10 access tokens per 10 minutes (zoho token-validity docs).
  c_quota constant int := 10;
  c_window constant interval := interval '10 minutes';
  -- A failure this recent is reported to waiters instead of being retried at once.
  c_failure_memory constant interval := interval '10 seconds';
  v_row public.zoho_credentials;
  v_lease uuid;
begin
  insert into public.zoho_credentials (org_id, product) values (p_org_id, p_product) on conflict do nothing;
  select * into v_row from public.zoho_credentials c
    where c.org_id = p_org_id and c.product = p_product for update;
  if v_row.token_version > coalesce(p_seen_version, -1) and v_row.access_token_sealed is not null
     and (v_row.access_expires_at is null or v_row.access_expires_at > p_now) then
    return jsonb_build_object('state', 'fresh', 'access_token_sealed', v_row.access_token_sealed,
                              'token_version', v_row.token_version, 'access_expires_at', v_row.access_expires_at);
  end if;
  if v_row.refresh_lease is not null and v_row.refresh_lease_until > p_now then
    return jsonb_build_object('state', 'wait');
  end if;
  if v_row.last_error_at is not null and v_row.last_error_at > p_now - c_failure_memory then
    return jsonb_build_object('state', 'failed', 'error', v_row.last_error);
  end if;
  if v_row.refresh_window_start is not null and v_row.refresh_window_start > p_now - c_window
     and v_row.refresh_count >= c_quota then
    return jsonb_build_object('state', 'quota');
  end if;
  v_lease := gen_random_uuid();
  update public.zoho_credentials c set
    refresh_lease = v_lease,
    refresh_lease_until = p_now + make_interval(secs => greatest(1, p_lease_seconds)),
    refresh_window_start = case when c.refresh_window_start is null or c.refresh_window_start <= p_now - c_window
                                then p_now else c.refresh_window_start end,
    refresh_count = case when c.refresh_window_start is null or c.refresh_window_start <= p_now - c_window
                         then 1 else c.refresh_count + 1 end
  where c.org_id = p_org_id and c.product = p_product;
  return jsonb_build_object('state', 'refresh', 'lease', v_lease, 'client_id', v_row.client_id,
    'client_secret_sealed', v_row.client_secret_sealed, 'refresh_token_sealed', v_row.refresh_token_sealed,
    'token_version', v_row.token_version);
end
$$;
revoke execute on function public.zoho_refresh_begin(uuid, text, int, int, timestamptz) from public, anon, authenticated;
grant execute on function public.zoho_refresh_begin(uuid, text, int, int, timestamptz) to service_role;

-- Stores the new access token of a refresh the caller holds the lease of (p_lease) and ends the
-- lease; bumps token_version. Returns the new version, or null when the lease is no longer the
-- caller's (nothing written). Who may call: the service role. Changes zoho_credentials.
create or replace function public.zoho_refresh_complete(
  p_org_id uuid, p_product text, p_lease uuid, p_access_token_sealed text, p_expires_at timestamptz,
  p_now timestamptz default now())
returns int
language sql security definer
set search_path = ''
as $$
  update public.zoho_credentials c set
    access_token_sealed = p_access_token_sealed, access_expires_at = p_expires_at,
    token_version = c.token_version + 1, refresh_lease = null, refresh_lease_until = null,
    last_refresh_at = p_now, last_error = null, last_error_at = null
  where c.org_id = p_org_id and c.product = p_product and c.refresh_lease = p_lease
  returning c.token_version
$$;
revoke execute on function public.zoho_refresh_complete(uuid, text, uuid, text, timestamptz, timestamptz) from public, anon, authenticated;
grant execute on function public.zoho_refresh_complete(uuid, text, uuid, text, timestamptz, timestamptz) to service_role;

-- Records a failed refresh (p_error: a short code, never a token or a body) and ends the lease.
-- Who may call: the service role. Changes zoho_credentials.
create or replace function public.zoho_refresh_fail(
  p_org_id uuid, p_product text, p_lease uuid, p_error text, p_now timestamptz default now())
returns boolean
language sql security definer
set search_path = ''
as $$
  update public.zoho_credentials c set
    refresh_lease = null, refresh_lease_until = null, last_error = left(p_error, 200), last_error_at = p_now
  where c.org_id = p_org_id and c.product = p_product and c.refresh_lease = p_lease
  returning true
$$;
revoke execute on function public.zoho_refresh_fail(uuid, text, uuid, text, timestamptz) from public, anon, authenticated;
grant execute on function public.zoho_refresh_fail(uuid, text, uuid, text, timestamptz) to service_role;

-- Stores an organisation's own OAuth client and refresh token (sealed by the caller) and forgets
-- the cached access token. Who may call: the service role (set-up scripts). Changes zoho_credentials.
create or replace function public.zoho_store_credentials(
  p_org_id uuid, p_product text, p_client_id text, p_client_secret_sealed text, p_refresh_token_sealed text)
returns void
language sql security definer
set search_path = ''
as $$
  insert into public.zoho_credentials as c (org_id, product, client_id, client_secret_sealed, refresh_token_sealed)
  values (p_org_id, p_product, p_client_id, p_client_secret_sealed, p_refresh_token_sealed)
  on conflict (org_id, product) do update set
    client_id = excluded.client_id, client_secret_sealed = excluded.client_secret_sealed,
    refresh_token_sealed = excluded.refresh_token_sealed, access_token_sealed = null,
    access_expires_at = null, token_version = c.token_version + 1, last_error = null, last_error_at = null
$$;
revoke execute on function public.zoho_store_credentials(uuid, text, text, text, text) from public, anon, authenticated;
grant execute on function public.zoho_store_credentials(uuid, text, text, text, text) to service_role;

-- The token-sealing key from Supabase Vault (secret 'switchboard_zoho_token_key', Base64 of 32
-- bytes) where Vault is installed and ZOHO_TOKEN_ENCRYPTION_KEY is not set; null elsewhere.
-- Who may call: the service role. Changes nothing.
create or replace function public.zoho_vault_key() returns text
language plpgsql stable security definer
set search_path = ''
as $$
declare
  v_key text;
begin
  if to_regclass('vault.decrypted_secrets') is null then
    return null;
  end if;
  execute 'select decrypted_secret from vault.decrypted_secrets where name = $1' into v_key
    using 'switchboard_zoho_token_key';
  return v_key;
end
$$;
revoke execute on function public.zoho_vault_key() from public, anon, authenticated;
grant execute on function public.zoho_vault_key() to service_role;

-- ---------------------------------------------------------------------------------------------
-- Row-level security: members read their organisation's settings; credentials are the service
-- role's alone (even sealed, a token is nobody else's business).
-- ---------------------------------------------------------------------------------------------
alter table public.zoho_settings enable row level security;
alter table public.zoho_credentials enable row level security;
create policy zoho_settings_member_read on public.zoho_settings for select to authenticated
  using (org_id in (select public.user_org_ids()));
revoke all on public.zoho_settings, public.zoho_credentials from anon, authenticated;
grant select on public.zoho_settings to authenticated;
grant all on public.zoho_settings, public.zoho_credentials to service_role;

select public.enable_audit('public.zoho_settings');
