-- Security and resilience for webhooks: generic signed integrations, a store of seen delivery ids
-- against replays, a shared rate-limit counter, and what /health/detailed and /metrics read.
--
--   integrations          one row per external sender: its signing scheme and secret, IP allow-list,
--                         rate limit. Dashboard users manage their organisation's rows but can never
--                         read a secret back (column privileges); edge functions read it through
--                         integration_for_webhook(), granted to the service role only.
--   integration_events    what those senders posted, validated, one row per (integration, event id).
--   replay_guard          delivery ids already accepted, per scope, until they expire.
--   rate_limit_counters   sliding-window counters (UNLOGGED: losing them in a crash only resets limits).
--   metric_samples        counters flushed by every isolate, summed for /metrics (UNLOGGED as well).
--   breaker_reports       each isolate's circuit breakers, for /health/detailed (UNLOGGED).
--
-- Every function here is called by edge functions as the service role; execute is revoked from
-- public (Supabase would otherwise expose them to anon through the API).

-- ---------------------------------------------------------------------------------------------
-- Integrations and their events
-- ---------------------------------------------------------------------------------------------
create table public.integrations (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.orgs (id) on delete cascade,
  name text not null check (length(btrim(name)) between 1 and 200),
  -- How the sender signs: 'standard-webhooks' (webhook-id/-timestamp/-signature, whsec_ secret) or
  -- 'legacy-hmac' (X-Timestamp/X-Signature of the system this replaces). See docs/security.md.
  scheme text not null check (scheme in ('standard-webhooks', 'legacy-hmac')),
  secret text not null,
  -- Addresses and ranges allowed to call; empty allows every address.
  allowed_ips cidr[] not null default '{}' check (cardinality(allowed_ips) <= 100),
  rate_limit_per_minute int not null default 60 check (rate_limit_per_minute between 1 and 100000),
  enabled boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- A secret the verifier cannot use is refused here rather than failing every delivery later:
  -- whsec_ + base64 of 24 to 64 bytes (the Standard Webhooks spec), or at least 16 characters.
  constraint integrations_secret_format check (
    case scheme
      when 'standard-webhooks' then secret ~ '^whsec_[A-Za-z0-9+/]{30,88}={0,2}$'
        and length(secret) between 38 and 94 and (length(secret) - 6) % 4 = 0
      else length(secret) between 16 and 512
    end),
  constraint integrations_name_unique unique (org_id, name),
  -- Lets integration_events prove with a foreign key that an event belongs to the same organisation.
  constraint integrations_id_org_unique unique (id, org_id)
);
create index integrations_org_idx on public.integrations (org_id);
create trigger integrations_touch before update on public.integrations
  for each row execute function public.touch_updated_at();

comment on column public.integrations.secret is
  'Signing secret. Writable by members, never readable by them (column privileges); the webhook reads it via integration_for_webhook().';

create table public.integration_events (
  id bigint generated always as identity primary key,
  integration_id uuid not null,
  org_id uuid not null,
  event_id text not null check (length(event_id) between 1 and 200),
  event_type text not null check (length(event_type) between 1 and 100),
  occurred_at timestamptz not null,
  data jsonb not null check (jsonb_typeof(data) = 'object'),
  -- The sender's delivery id (webhook-id) when its scheme has one.
  delivery_id text,
  request_id text,
  received_at timestamptz not null default now(),
  -- Set by whatever acts on the event; null rows are the queue /health/detailed reports.
  processed_at timestamptz,
  foreign key (integration_id, org_id) references public.integrations (id, org_id) on delete cascade,
  -- A sender's retry or a replayed request carries the same event id: it can never add a second row.
  constraint integration_events_unique unique (integration_id, event_id)
);
create index integration_events_org_idx on public.integration_events (org_id, received_at);
create index integration_events_pending_idx on public.integration_events (received_at) where processed_at is null;

-- ---------------------------------------------------------------------------------------------
-- Replay guard
-- ---------------------------------------------------------------------------------------------
create table public.replay_guard (
  scope text not null check (length(scope) between 1 and 100),
  id text not null check (length(id) between 1 and 300),
  expires_at timestamptz not null,
  created_at timestamptz not null default now(),
  -- One claim per id and scope: the insert that loses the race does nothing.
  primary key (scope, id)
);
create index replay_guard_expires_idx on public.replay_guard (expires_at);

-- Who may call: the service role. Changes: adds (or renews an expired) replay_guard row.
-- Returns true when the id was not seen in this scope within its lifetime (go ahead), false for a
-- replay. A row whose expiry has passed is claimed again: the sender's timestamp window, shorter than
-- the ttl, already refuses anything that old.
create or replace function public.claim_replay(p_scope text, p_id text, p_ttl_seconds int default 600)
returns boolean
language sql volatile
set search_path = ''
as $$
  with claimed as (
    insert into public.replay_guard as g (scope, id, expires_at)
    values (p_scope, p_id, now() + make_interval(secs => greatest(p_ttl_seconds, 1)))
    on conflict (scope, id) do update
      set expires_at = excluded.expires_at, created_at = now()
      where g.expires_at <= now()
    returning 1
  )
  select exists (select 1 from claimed)
$$;
revoke execute on function public.claim_replay(text, text, int) from public;
grant execute on function public.claim_replay(text, text, int) to service_role;

-- ---------------------------------------------------------------------------------------------
-- Rate-limit counters: a sliding window approximated from two fixed windows (as Upstash's
-- slidingWindow does): estimate = previous window's count × the share of it still inside the
-- sliding window + this window's count.
-- ---------------------------------------------------------------------------------------------
create unlogged table public.rate_limit_counters (
  key text not null check (length(key) between 1 and 200),
  window_index bigint not null,
  count int not null,
  -- Epoch milliseconds after which no window can read this row (the end of the next window).
  expires_at_ms bigint not null,
  primary key (key, window_index)
);

-- Who may call: the service role. Changes: counts one request against every key, or nothing.
-- p_keys/p_limits pair up (one to eight keys); the request is admitted only if every key stays within
-- its limit, and only an admitted request is counted (a caller that keeps knocking while refused
-- does not push its own reset further away). Keys are locked in sorted order, so concurrent calls
-- with overlapping keys cannot deadlock, and each upsert is atomic, so concurrent calls never lose a
-- count. Returns {"allowed", "elapsed_ms", "window_ms", "counts": [{"key","limit","previous","current"}]}
-- where current includes this request when it was admitted.
--
-- lock_timeout bounds the one wait this function can have (a hot key locked by another call). A
-- function-level statement_timeout would not bound the running statement: Postgres arms that timer
-- when the top-level statement starts (measured; see docs/security.md). The caller keeps its own
-- budget (50 ms) and falls back to its in-isolate limiter.
create or replace function public.rate_limit_hit(p_keys text[], p_limits int[], p_window_seconds int default 60)
returns jsonb
language plpgsql volatile
set search_path = ''
set lock_timeout = '50ms'
as $$
declare
  now_ms bigint := floor(extract(epoch from clock_timestamp()) * 1000);
  window_ms bigint := greatest(p_window_seconds, 1)::bigint * 1000;
  cur bigint := now_ms / window_ms;
  elapsed bigint := now_ms - cur * window_ms;
  weight float8 := 1 - elapsed::float8 / window_ms;
  n int := coalesce(array_length(p_keys, 1), 0);
  order_idx int[];
  i int;
  k text;
  lim int;
  prev_count int;
  cur_count int;
  allowed boolean := true;
  counts jsonb := '[]'::jsonb;
begin
  if n = 0 or n > 8 or n <> coalesce(array_length(p_limits, 1), 0) then
    raise exception 'rate_limit_hit: between one and eight keys, each with a limit' using errcode = '22023';
  end if;
  select array_agg(o.i order by p_keys[o.i]) into order_idx from generate_subscripts(p_keys, 1) as o(i);
  begin
    foreach i in array order_idx loop
      k := p_keys[i];
      lim := p_limits[i];
      insert into public.rate_limit_counters as c (key, window_index, count, expires_at_ms)
        values (k, cur, 1, (cur + 2) * window_ms)
        on conflict (key, window_index) do update set count = c.count + 1
        returning c.count into cur_count;
      select c.count into prev_count from public.rate_limit_counters c where c.key = k and c.window_index = cur - 1;
      prev_count := coalesce(prev_count, 0);
      if prev_count * weight + cur_count > lim then
        allowed := false;
      end if;
      counts := counts || jsonb_build_object('key', k, 'limit', lim, 'previous', prev_count, 'current', cur_count);
    end loop;
    if not allowed then
      -- Undo every increment of this call (the block is a subtransaction); the counts above stay.
      raise exception using errcode = 'SBRL0';
    end if;
  exception when sqlstate 'SBRL0' then
    select coalesce(jsonb_agg(jsonb_set(e, '{current}', to_jsonb((e ->> 'current')::int - 1))), '[]'::jsonb)
      into counts from jsonb_array_elements(counts) e;
  end;
  -- Self-maintenance without pg_cron: about one call in 500 removes a bounded batch of old windows.
  if random() < 0.002 then
    delete from public.rate_limit_counters c
      where c.ctid = any (array(select c2.ctid from public.rate_limit_counters c2
                                where c2.expires_at_ms < now_ms limit 200));
  end if;
  return jsonb_build_object('allowed', allowed, 'elapsed_ms', elapsed, 'window_ms', window_ms, 'counts', counts);
end
$$;
revoke execute on function public.rate_limit_hit(text[], int[], int) from public;
grant execute on function public.rate_limit_hit(text[], int[], int) to service_role;

-- ---------------------------------------------------------------------------------------------
-- Maintenance: removes expired replay ids and rate-limit windows no limit can read any more.
-- Who may call: the service role, pg_cron, run_maintenance_tasks(). Changes: deletes at most
-- p_batch rows from each table per call, so no statement holds locks for long. Returns rows deleted.
-- ---------------------------------------------------------------------------------------------
create or replace function public.prune_security_state(p_batch int default 5000) returns int
language plpgsql volatile
set search_path = ''
as $$
declare
  removed int := 0;
  n int;
begin
  delete from public.replay_guard g
    where g.ctid = any (array(select g2.ctid from public.replay_guard g2
                              where g2.expires_at < now() limit p_batch));
  get diagnostics n = row_count;
  removed := removed + n;
  delete from public.rate_limit_counters c
    where c.ctid = any (array(select c2.ctid from public.rate_limit_counters c2
                              where c2.expires_at_ms < floor(extract(epoch from now()) * 1000)
                              limit p_batch));
  get diagnostics n = row_count;
  return removed + n;
end
$$;
revoke execute on function public.prune_security_state(int) from public;
grant execute on function public.prune_security_state(int) to service_role;

-- ---------------------------------------------------------------------------------------------
-- What the integrations webhook reads and writes, one round trip each.
-- ---------------------------------------------------------------------------------------------

-- Who may call: the service role only (it returns the secret). Changes nothing.
-- Null when the integration does not exist.
create or replace function public.integration_for_webhook(p_id uuid) returns jsonb
language sql stable
set search_path = ''
as $$
  select jsonb_build_object(
    'id', i.id, 'org_id', i.org_id, 'scheme', i.scheme, 'secret', i.secret,
    'allowed_ips', to_jsonb(i.allowed_ips::text[]), 'rate_limit_per_minute', i.rate_limit_per_minute,
    'enabled', i.enabled)
  from public.integrations i where i.id = p_id
$$;
revoke execute on function public.integration_for_webhook(uuid) from public;
grant execute on function public.integration_for_webhook(uuid) to service_role;

-- Who may call: the service role. Changes: claims the delivery in replay_guard and adds one
-- integration_events row, both or neither. Returns {"duplicate": false, "id": n} for a new event,
-- {"duplicate": true} for a replayed delivery or an event id already stored, {"missing": true} when
-- the integration was deleted meanwhile.
create or replace function public.ingest_integration_event(
  p_integration_id uuid,
  p_event_id text,
  p_event_type text,
  p_occurred_at timestamptz,
  p_data jsonb,
  p_delivery_id text default null,
  p_request_id text default null,
  p_replay_ttl_seconds int default 600
) returns jsonb
language plpgsql volatile
set search_path = ''
set lock_timeout = '2s'
as $$
declare
  v_org uuid;
  v_id bigint;
begin
  select i.org_id into v_org from public.integrations i where i.id = p_integration_id;
  if not found then
    return jsonb_build_object('missing', true);
  end if;
  if not public.claim_replay('integration:' || p_integration_id::text,
                             coalesce('delivery:' || p_delivery_id, 'event:' || p_event_id),
                             p_replay_ttl_seconds) then
    return jsonb_build_object('duplicate', true);
  end if;
  insert into public.integration_events
    (integration_id, org_id, event_id, event_type, occurred_at, data, delivery_id, request_id)
  values (p_integration_id, v_org, p_event_id, p_event_type, p_occurred_at, p_data, p_delivery_id, p_request_id)
  on conflict (integration_id, event_id) do nothing
  returning id into v_id;
  if v_id is null then
    return jsonb_build_object('duplicate', true);
  end if;
  return jsonb_build_object('duplicate', false, 'id', v_id);
end
$$;
revoke execute on function public.ingest_integration_event(uuid, text, text, timestamptz, jsonb, text, text, int) from public;
grant execute on function public.ingest_integration_event(uuid, text, text, timestamptz, jsonb, text, text, int) to service_role;

-- ---------------------------------------------------------------------------------------------
-- Metrics shared by every isolate
-- ---------------------------------------------------------------------------------------------
create unlogged table public.metric_samples (
  name text not null check (name ~ '^[a-zA-Z_:][a-zA-Z0-9_:]*$'),
  labels jsonb not null default '{}'::jsonb check (jsonb_typeof(labels) = 'object'),
  value float8 not null default 0,
  primary key (name, labels)
);

-- Who may call: the service role. Changes: adds each sample's value to its series (creating it).
-- p_samples is [{"name": …, "labels": {…}, "value": n}, …], at most 5000 per call; the table keeps at
-- most 50000 series, beyond which new series are dropped (existing ones still count).
create or replace function public.metrics_add(p_samples jsonb) returns int
language plpgsql volatile
set search_path = ''
set lock_timeout = '1s'
as $$
declare
  n int;
  full_table boolean;
begin
  if jsonb_typeof(p_samples) <> 'array' or jsonb_array_length(p_samples) > 5000 then
    raise exception 'metrics_add: an array of at most 5000 samples' using errcode = '22023';
  end if;
  select count(*) >= 50000 into full_table from (select 1 from public.metric_samples limit 50000) s;
  insert into public.metric_samples as m (name, labels, value)
  select x.name, coalesce(x.labels, '{}'::jsonb), x.value
  from jsonb_to_recordset(p_samples) as x(name text, labels jsonb, value float8)
  where x.value is not null and x.name ~ '^[a-zA-Z_:][a-zA-Z0-9_:]*$'
    and (not full_table or exists (select 1 from public.metric_samples e
                                   where e.name = x.name and e.labels = coalesce(x.labels, '{}'::jsonb)))
  order by x.name, x.labels::text
  on conflict (name, labels) do update set value = m.value + excluded.value;
  get diagnostics n = row_count;
  return n;
end
$$;
revoke execute on function public.metrics_add(jsonb) from public;
grant execute on function public.metrics_add(jsonb) to service_role;

-- Who may call: the service role. Changes nothing. Every series as [{"name","labels","value"}].
create or replace function public.metrics_snapshot() returns jsonb
language sql stable
set search_path = ''
as $$
  select coalesce(jsonb_agg(jsonb_build_object('name', m.name, 'labels', m.labels, 'value', m.value)
                            order by m.name, m.labels::text), '[]'::jsonb)
  from public.metric_samples m
$$;
revoke execute on function public.metrics_snapshot() from public;
grant execute on function public.metrics_snapshot() to service_role;

-- ---------------------------------------------------------------------------------------------
-- Circuit breakers as each isolate last saw them. A breaker lives in the isolate that calls the
-- dependency; /health/detailed runs in another isolate, so isolates report their breakers here
-- (with their metrics flush) and health_snapshot() reads what was reported in the last two minutes.
-- ---------------------------------------------------------------------------------------------
create unlogged table public.breaker_reports (
  isolate_id text not null check (length(isolate_id) between 1 and 64),
  name text not null check (length(name) between 1 and 100),
  state text not null check (state in ('closed', 'open', 'half_open', 'isolated')),
  since timestamptz not null,
  consecutive_failures int not null default 0,
  last_failure text check (length(last_failure) <= 100),
  reported_at timestamptz not null default now(),
  primary key (isolate_id, name)
);

-- Who may call: the service role. Changes: upserts this isolate's breakers (at most 100) and removes
-- reports older than ten minutes (at most 500 rows a call). Returns the number of breakers stored.
create or replace function public.report_breakers(p_isolate_id text, p_breakers jsonb) returns int
language plpgsql volatile
set search_path = ''
set lock_timeout = '1s'
as $$
declare
  n int;
begin
  if jsonb_typeof(p_breakers) <> 'array' or jsonb_array_length(p_breakers) > 100 then
    raise exception 'report_breakers: an array of at most 100 breakers' using errcode = '22023';
  end if;
  insert into public.breaker_reports as b
    (isolate_id, name, state, since, consecutive_failures, last_failure, reported_at)
  select p_isolate_id, x.name, x.state, x.since, coalesce(x."consecutiveFailures", 0), left(x."lastFailure", 100), now()
  from jsonb_to_recordset(p_breakers)
    as x(name text, state text, since timestamptz, "consecutiveFailures" int, "lastFailure" text)
  order by x.name
  on conflict (isolate_id, name) do update
    set state = excluded.state, since = excluded.since, consecutive_failures = excluded.consecutive_failures,
        last_failure = excluded.last_failure, reported_at = excluded.reported_at;
  get diagnostics n = row_count;
  delete from public.breaker_reports r
    where r.ctid = any (array(select r2.ctid from public.breaker_reports r2
                              where r2.reported_at < now() - interval '10 minutes' limit 500));
  return n;
end
$$;
revoke execute on function public.report_breakers(text, jsonb) from public;
grant execute on function public.report_breakers(text, jsonb) to service_role;

-- ---------------------------------------------------------------------------------------------
-- Health
-- ---------------------------------------------------------------------------------------------

-- Who may call: the service role. Changes nothing. One round trip for /health/detailed:
-- the database clock and version; pg_cron jobs with their last run, when the cron schema exists;
-- queue depths (pending integration events, and every table named in p_queue_tables that exists,
-- counted up to 10001 so that a huge backlog stays cheap to report); circuit breakers other isolates
-- reported in the last two minutes; integration counts.
-- security definer: the cron schema is not readable by the service role on every installation.
create or replace function public.health_snapshot(p_queue_tables text[] default array['public.outbox'])
returns jsonb
language plpgsql stable
security definer
set search_path = ''
set statement_timeout = '2s'
as $$
declare
  result jsonb;
  cron_jobs jsonb := null;
  queues jsonb := '{}'::jsonb;
  t text;
  rel regclass;
  depth bigint;
begin
  result := jsonb_build_object(
    'now', now(),
    'server_version_num', current_setting('server_version_num')::int);

  if to_regclass('cron.job') is not null then
    if to_regclass('cron.job_run_details') is not null then
      execute $q$
        select coalesce(jsonb_agg(jsonb_build_object(
                 'jobname', j.jobname, 'schedule', j.schedule, 'active', j.active,
                 'last_status', r.status, 'last_start', r.start_time, 'last_end', r.end_time)
                 order by j.jobid), '[]'::jsonb)
        from cron.job j
        left join lateral (select d.status, d.start_time, d.end_time from cron.job_run_details d
                           where d.jobid = j.jobid order by d.start_time desc nulls last limit 1) r on true
      $q$ into cron_jobs;
    else
      execute $q$
        select coalesce(jsonb_agg(jsonb_build_object('jobname', j.jobname, 'schedule', j.schedule,
                                                     'active', j.active) order by j.jobid), '[]'::jsonb)
        from cron.job j
      $q$ into cron_jobs;
    end if;
  end if;
  result := result || jsonb_build_object('cron', cron_jobs);

  select count(*) into depth from (select 1 from public.integration_events e
                                   where e.processed_at is null limit 10001) s;
  queues := queues || jsonb_build_object('public.integration_events', depth);
  foreach t in array coalesce(p_queue_tables, '{}') loop
    rel := to_regclass(t);
    if rel is not null then
      execute format('select count(*) from (select 1 from %s limit 10001) s', rel) into depth;
      queues := queues || jsonb_build_object(rel::text, depth);
    end if;
  end loop;
  result := result || jsonb_build_object('queues', queues);

  result := result || jsonb_build_object('breakers', (
    select coalesce(jsonb_agg(jsonb_build_object(
             'isolate_id', b.isolate_id, 'name', b.name, 'state', b.state, 'since', b.since,
             'consecutive_failures', b.consecutive_failures, 'last_failure', b.last_failure,
             'reported_at', b.reported_at) order by b.name, b.isolate_id), '[]'::jsonb)
    from public.breaker_reports b where b.reported_at > now() - interval '2 minutes'));

  result := result || jsonb_build_object('integrations', (
    select jsonb_build_object('total', count(*), 'enabled', count(*) filter (where i.enabled))
    from public.integrations i));
  return result;
end
$$;
revoke execute on function public.health_snapshot(text[]) from public;
grant execute on function public.health_snapshot(text[]) to service_role;

-- ---------------------------------------------------------------------------------------------
-- Row-level security and privileges
-- ---------------------------------------------------------------------------------------------
alter table public.integrations enable row level security;
alter table public.integration_events enable row level security;
alter table public.replay_guard enable row level security;
alter table public.rate_limit_counters enable row level security;
alter table public.metric_samples enable row level security;
alter table public.breaker_reports enable row level security;

create policy integrations_member on public.integrations for all to authenticated
  using (org_id in (select public.user_org_ids())) with check (org_id in (select public.user_org_ids()));
create policy integration_events_member_read on public.integration_events for select to authenticated
  using (org_id in (select public.user_org_ids()));

-- Supabase grants every privilege on new public tables to anon and authenticated by default
-- privileges; start from nothing and grant columns one by one. The secret column can be written
-- (create, rotate) but never selected, and because a WHERE clause needs SELECT on the columns it
-- reads, `update … where secret like 'a%'` is refused too: the secret cannot be probed either.
revoke all on public.integrations, public.integration_events, public.replay_guard,
  public.rate_limit_counters, public.metric_samples, public.breaker_reports from anon, authenticated;
grant select (id, org_id, name, scheme, allowed_ips, rate_limit_per_minute, enabled, created_at, updated_at)
  on public.integrations to authenticated;
grant insert (org_id, name, scheme, secret, allowed_ips, rate_limit_per_minute, enabled)
  on public.integrations to authenticated;
grant update (name, scheme, secret, allowed_ips, rate_limit_per_minute, enabled)
  on public.integrations to authenticated;
grant delete on public.integrations to authenticated;
grant select on public.integration_events to authenticated;
grant all on public.integrations, public.integration_events, public.replay_guard,
  public.rate_limit_counters, public.metric_samples, public.breaker_reports to service_role;
grant usage, select on all sequences in schema public to service_role;

-- ---------------------------------------------------------------------------------------------
-- Pruning: rate_limit_hit() prunes old windows itself; expired replay ids are removed by
-- prune_security_state(), which run_maintenance_tasks() (20261123000320) calls on every run, so it is
-- scheduled with the rest of the maintenance: by pg_cron, or by the dev server's timer without it.
-- ---------------------------------------------------------------------------------------------
