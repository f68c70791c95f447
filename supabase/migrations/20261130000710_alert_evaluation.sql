-- Alerts, part 2: evaluation in SQL. evaluate_alerts(p_now) runs every minute (pg_cron job
-- switchboard-alerts, or npm start's timer where pg_cron is absent):
--
--   1. snapshots the counters the metric rules read (metric_samples, which every isolate flushes),
--      so that a rule can take a counter's increase over its window;
--   2. calls each kind's evaluator, which returns the rules (and organisations) whose condition
--      holds now: an alert_observation each;
--   3. reconciles incidents with what was observed (alert_apply): a new observation opens an
--      incident (pending until the rule's for_seconds have passed, then firing); an open incident
--      no longer observed is clear, and resolves once it has stayed clear for clear_seconds;
--   4. queues a notice per destination for every firing and resolved transition (unique per
--      incident, transition and destination), and asks for delivery (pg_net, where it is set up).
--
-- Tables that other features add (outbox, agent_sessions, llm_calls) and pg_cron's own may be
-- absent: their evaluators look them up with to_regclass() and observe nothing without them, and
-- read them through dynamic SQL so that this migration applies everywhere.

create type public.alert_observation as (
  rule_name text,
  -- Null for system-wide rules.
  org_id uuid,
  value float8,
  threshold float8,
  severity text,
  window_seconds int,
  for_seconds int,
  clear_seconds int,
  details jsonb
);

-- ---------------------------------------------------------------------------------------------
-- Helpers
-- ---------------------------------------------------------------------------------------------

-- Minutes since midnight of 'H:MM' or 'HH:MM' (hours 0-24, as business-hours.ts reads them), or null.
-- Who may call: anyone. Changes nothing.
create or replace function public.hhmm_minutes(p_text text) returns int
language sql immutable
set search_path = ''
as $$
  select case when btrim(p_text) ~ '^([01]?[0-9]|2[0-4]):[0-5][0-9]$'
              then split_part(btrim(p_text), ':', 1)::int * 60 + split_part(btrim(p_text), ':', 2)::int end
$$;
grant execute on function public.hhmm_minutes(text) to authenticated, service_role;

-- Is a business open at p_at, by hours {"mon": [["08:00","17:00"]], ...} in p_timezone? A missing or
-- empty day is closed; a range that ends at or before it starts runs past midnight, as in
-- functions/_shared/time/business-hours.ts. An unknown time zone counts as closed and malformed
-- ranges are skipped: no silence alert rather than a broken evaluation.
-- Who may call: anyone. Changes nothing.
create or replace function public.business_hours_open_at(p_hours jsonb, p_timezone text, p_at timestamptz)
returns boolean
language plpgsql stable
set search_path = ''
as $$
declare
  c_days constant text[] := array['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
  v_local timestamp;
  v_dow int;
  v_minutes int;
  v_range jsonb;
  v_start int;
  v_end int;
begin
  if p_hours is null or jsonb_typeof(p_hours) <> 'object' or p_at is null then
    return false;
  end if;
  begin
    v_local := p_at at time zone p_timezone;
  exception when others then
    return false;
  end;
  v_dow := extract(dow from v_local)::int;
  v_minutes := extract(hour from v_local)::int * 60 + extract(minute from v_local)::int;
  -- Today's ranges (an overnight one counts from its start to midnight).
  if jsonb_typeof(p_hours -> c_days[v_dow + 1]) = 'array' then
    for v_range in select r from jsonb_array_elements(p_hours -> c_days[v_dow + 1]) r loop
      continue when jsonb_typeof(v_range) <> 'array' or jsonb_array_length(v_range) <> 2;
      v_start := public.hhmm_minutes(v_range ->> 0);
      v_end := public.hhmm_minutes(v_range ->> 1);
      continue when v_start is null or v_end is null;
      if (v_end > v_start and v_minutes >= v_start and v_minutes < v_end)
         or (v_end <= v_start and v_minutes >= v_start) then
        return true;
      end if;
    end loop;
  end if;
  -- Yesterday's overnight ranges, still open after midnight.
  if jsonb_typeof(p_hours -> c_days[(v_dow + 6) % 7 + 1]) = 'array' then
    for v_range in select r from jsonb_array_elements(p_hours -> c_days[(v_dow + 6) % 7 + 1]) r loop
      continue when jsonb_typeof(v_range) <> 'array' or jsonb_array_length(v_range) <> 2;
      v_start := public.hhmm_minutes(v_range ->> 0);
      v_end := public.hhmm_minutes(v_range ->> 1);
      continue when v_start is null or v_end is null;
      if v_end <= v_start and v_minutes < v_end then
        return true;
      end if;
    end loop;
  end if;
  return false;
end
$$;
grant execute on function public.business_hours_open_at(jsonb, text, timestamptz) to authenticated, service_role;

-- Is any of an organisation's AI-answered numbers inside its business hours at p_at?
-- Who may call: the evaluators (service role). Changes nothing.
create or replace function public.alert_org_open_at(p_org_id uuid, p_at timestamptz) returns boolean
language plpgsql stable
-- Dear compared with an index probe: the planner should test it last.
cost 1000
set search_path = ''
as $$
begin
  return (
    select exists (
      select 1
      from public.phone_numbers p
      join public.ai_dispatcher_configs c on c.phone_number_id = p.id
      join public.orgs o on o.id = p.org_id
      where p.org_id = p_org_id and p.ai_dispatcher_enabled
        and public.business_hours_open_at(c.business_hours, coalesce(c.timezone, o.timezone), p_at))
  );
end
$$;
revoke execute on function public.alert_org_open_at(uuid, timestamptz) from public, anon, authenticated;
grant execute on function public.alert_org_open_at(uuid, timestamptz) to service_role;

-- How far apart two evaluations "a minute apart" may be short of the minute: pg_cron and timers
-- start a run a little early or late, and the statement's now() follows. Windows, for_seconds and
-- clear_seconds are met when within this of their length, so that a 60-second rule never waits for
-- a third run because two runs were 59.99 s apart.
-- Who may call: anyone. Changes nothing.
create or replace function public.alert_tick_slack() returns interval
language sql immutable parallel safe
set search_path = ''
as $$ select interval '5 seconds' $$;
grant execute on function public.alert_tick_slack() to authenticated, service_role;

-- The increase of each snapshotted counter series named in p_names over the p_window_seconds
-- before p_now: the snapshot taken at p_now minus the newest snapshot at least the window old (or,
-- when there is none yet, the oldest one inside the window). "At least the window old" allows the
-- scheduler's jitter (alert_tick_slack(), 5 s): runs a minute apart are not exactly 60 s apart, and
-- a 60-second rule must take the previous run's snapshot, not the one before it. A counter that went down was reset
-- (metric_samples is UNLOGGED) and counts from zero; a series absent from the baseline is new.
-- Nothing is returned without a baseline: no evidence, no alert.
-- Who may call: the evaluators. Changes nothing.
create or replace function public.alert_metric_increase(p_now timestamptz, p_window_seconds int, p_names text[])
returns table (name text, labels jsonb, increase float8, span_seconds float8)
language plpgsql stable
set search_path = ''
as $$
#variable_conflict use_column
begin
  return query
    with base as (
      select coalesce(
        (select max(s.taken_at) from public.alert_metric_snapshots s
          where s.taken_at <= p_now - make_interval(secs => p_window_seconds) + public.alert_tick_slack()),
        (select min(s.taken_at) from public.alert_metric_snapshots s
          where s.taken_at > p_now - make_interval(secs => p_window_seconds) + public.alert_tick_slack()
            and s.taken_at < p_now)) as at
    )
    select c.name, c.labels,
           case when c.value >= coalesce(b.value, 0) then c.value - coalesce(b.value, 0) else c.value end,
           extract(epoch from p_now - base.at)::float8
    from base
    join public.alert_metric_snapshots c on c.taken_at = p_now and c.name = any (p_names)
    left join public.alert_metric_snapshots b on b.taken_at = base.at and b.name = c.name and b.labels = c.labels
    where base.at is not null;
end
$$;
revoke execute on function public.alert_metric_increase(timestamptz, int, text[]) from public, anon, authenticated;
grant execute on function public.alert_metric_increase(timestamptz, int, text[]) to service_role;

-- An organisation-scoped rule's values for each organisation in p_orgs that has it on: the rule's
-- own values where the organisation's override leaves them null.
-- Who may call: the evaluators. Changes nothing.
create or replace function public.alert_org_rules(p_kind text, p_orgs uuid[])
returns table (rule_name text, org_id uuid, target text, threshold float8, window_seconds int,
               for_seconds int, clear_seconds int, min_events int, severity text)
language plpgsql stable
set search_path = ''
as $$
#variable_conflict use_column
begin
  return query
    select r.name, o.org_id, r.target,
           coalesce(ov.threshold, r.threshold), coalesce(ov.window_seconds, r.window_seconds),
           coalesce(ov.for_seconds, r.for_seconds), coalesce(ov.clear_seconds, r.clear_seconds),
           coalesce(ov.min_events, r.min_events), coalesce(ov.severity, r.severity)
    from public.alert_rules r
    cross join unnest(p_orgs) as o(org_id)
    left join public.alert_rule_overrides ov on ov.rule_name = r.name and ov.org_id = o.org_id
    where r.kind = p_kind and coalesce(ov.enabled, r.enabled);
end
$$;
revoke execute on function public.alert_org_rules(text, uuid[]) from public, anon, authenticated;
grant execute on function public.alert_org_rules(text, uuid[]) to service_role;

-- The longest window any rule of a kind (or an override of one) uses: how far back to read.
-- Who may call: the evaluators. Changes nothing.
create or replace function public.alert_kind_max_window(p_kind text) returns int
language plpgsql stable
set search_path = ''
as $$
begin
  return (
    select greatest(
      (select max(r.window_seconds) from public.alert_rules r where r.kind = p_kind),
      (select max(ov.window_seconds) from public.alert_rule_overrides ov
         join public.alert_rules r on r.name = ov.rule_name where r.kind = p_kind))
  );
end
$$;
revoke execute on function public.alert_kind_max_window(text) from public, anon, authenticated;
grant execute on function public.alert_kind_max_window(text) to service_role;

-- ---------------------------------------------------------------------------------------------
-- Evaluators: (p_now timestamptz) returns setof alert_observation, one row per rule (and
-- organisation) whose condition holds at p_now. Who may call: evaluate_alerts(). Change nothing.
-- ---------------------------------------------------------------------------------------------

-- Mean response time of the target function over the window (ms), from the duration histogram's
-- _sum and _count. Needs at least min_events answers (and one).
create or replace function public.alert_check_http_latency(p_now timestamptz)
returns setof public.alert_observation
language plpgsql stable
set search_path = ''
as $$
#variable_conflict use_column
begin
  return query
    select r.name, null::uuid, m.seconds / nullif(m.n, 0) * 1000, r.threshold, r.severity, r.window_seconds,
           r.for_seconds, r.clear_seconds,
           jsonb_build_object('function', r.target, 'answers', m.n,
                              'mean_ms', round((m.seconds / nullif(m.n, 0) * 1000)::numeric, 1), 'span_seconds', round(m.span::numeric))
    from public.alert_rules r
    cross join lateral (
      select sum(i.increase) filter (where i.name = 'switchboard_http_request_duration_seconds_sum') as seconds,
             sum(i.increase) filter (where i.name = 'switchboard_http_request_duration_seconds_count') as n,
             max(i.span_seconds) as span
      from public.alert_metric_increase(p_now, r.window_seconds,
             array['switchboard_http_request_duration_seconds_sum', 'switchboard_http_request_duration_seconds_count']) i
      where r.target is null or i.labels ->> 'function' = r.target) m
    where r.kind = 'http_latency' and r.enabled
      and m.n >= greatest(r.min_events, 1) and m.seconds / nullif(m.n, 0) * 1000 > r.threshold;
end
$$;

-- Share of the target function's answers that failed: 5xx answers plus degraded ones (200s that
-- carried a fallback, e.g. the Telnyx webhook's variables after a database timeout), over the
-- answers that were not refused. 4xx answers are left out of both sides: a flood of forged,
-- unsigned or malformed requests is the caller's failure, not ours, and must neither raise the
-- rate nor dilute it.
create or replace function public.alert_check_http_error_rate(p_now timestamptz)
returns setof public.alert_observation
language plpgsql stable
set search_path = ''
as $$
#variable_conflict use_column
begin
  return query
    select r.name, null::uuid, m.failed / nullif(m.answered, 0), r.threshold, r.severity, r.window_seconds,
           r.for_seconds, r.clear_seconds,
           jsonb_build_object('function', r.target, 'answers', m.answered, 'failed', m.failed,
                              'server_errors', m.server_errors, 'degraded', m.degraded,
                              'span_seconds', round(m.span::numeric))
    from public.alert_rules r
    cross join lateral (
      select s.server_errors + s.degraded as failed, s.* from (
        select coalesce(sum(i.increase) filter (where i.name = 'switchboard_http_requests_total'
                                                  and i.labels ->> 'status' like '5%'), 0) as server_errors,
               coalesce(sum(i.increase) filter (where i.name = 'switchboard_degraded_answers_total'), 0) as degraded,
               coalesce(sum(i.increase) filter (where i.name = 'switchboard_http_requests_total'
                                                  and i.labels ->> 'status' not like '4%'), 0) as answered,
               max(i.span_seconds) as span
        from public.alert_metric_increase(p_now, r.window_seconds,
               array['switchboard_http_requests_total', 'switchboard_degraded_answers_total']) i
        where r.target is null or i.labels ->> 'function' = r.target) s) m
    where r.kind = 'http_error_rate' and r.enabled
      and m.answered >= greatest(r.min_events, 1) and m.failed / nullif(m.answered, 0) > r.threshold;
end
$$;

-- Share of the target cache's lookups that hit, below the threshold, over at least min_events lookups.
create or replace function public.alert_check_cache_hit_ratio(p_now timestamptz)
returns setof public.alert_observation
language plpgsql stable
set search_path = ''
as $$
#variable_conflict use_column
begin
  return query
    select r.name, null::uuid, m.hits / nullif(m.lookups, 0), r.threshold, r.severity, r.window_seconds,
           r.for_seconds, r.clear_seconds,
           jsonb_build_object('cache', r.target, 'lookups', m.lookups, 'hits', m.hits, 'span_seconds', round(m.span::numeric))
    from public.alert_rules r
    cross join lateral (
      select coalesce(sum(i.increase) filter (where i.labels ->> 'result' = 'hit'), 0) as hits,
             coalesce(sum(i.increase), 0) as lookups,
             max(i.span_seconds) as span
      from public.alert_metric_increase(p_now, r.window_seconds, array['switchboard_cache_requests_total']) i
      where r.target is null or i.labels ->> 'cache' = r.target) m
    where r.kind = 'cache_hit_ratio' and r.enabled
      and m.lookups >= greatest(r.min_events, 1) and m.hits / nullif(m.lookups, 0) < r.threshold;
end
$$;

-- Circuit breakers that isolates reported not closed (open, half-open, isolated) within the window.
-- "Open for more than 2 minutes" is the rule's for_seconds: a breaker that keeps failing flips
-- between open and half-open, so its own `since` restarts; the pending incident does not.
-- Breakers of alert delivery itself (alert-webhook:*) are left out: a receiver that is down is
-- reported on its notices, and must not raise an alert that would go to that receiver.
create or replace function public.alert_check_breaker_open(p_now timestamptz)
returns setof public.alert_observation
language plpgsql stable
set search_path = ''
as $$
#variable_conflict use_column
begin
  return query
    select r.name, null::uuid, count(distinct b.name)::float8, r.threshold, r.severity, r.window_seconds,
           r.for_seconds, r.clear_seconds,
           jsonb_build_object('breakers', jsonb_agg(distinct b.name), 'states', jsonb_agg(distinct b.state))
    from public.alert_rules r
    join public.breaker_reports b
      on b.reported_at > p_now - make_interval(secs => r.window_seconds)
     and b.state <> 'closed' and b.name not like 'alert-webhook%'
     and (r.target is null or b.name = r.target)
    where r.kind = 'breaker_open' and r.enabled
    group by r.name, r.threshold, r.severity, r.window_seconds, r.for_seconds, r.clear_seconds
    having count(distinct b.name) >= greatest(r.threshold, 1);
end
$$;

-- pg_cron jobs (active, named by the target or all) whose last run before p_now failed. Inert where
-- pg_cron is not installed in this database.
create or replace function public.alert_check_cron_failed(p_now timestamptz)
returns setof public.alert_observation
language plpgsql stable
set search_path = ''
as $$
begin
  if to_regclass('cron.job') is null or to_regclass('cron.job_run_details') is null then
    return;
  end if;
  return query execute $q$
    select r.name, null::uuid, count(*)::float8, r.threshold, r.severity, r.window_seconds,
           r.for_seconds, r.clear_seconds,
           jsonb_build_object('jobs', jsonb_agg(j.jobname::text order by j.jobname))
    from public.alert_rules r
    cross join cron.job j
    cross join lateral (select d.status from cron.job_run_details d
                        where d.jobid = j.jobid and d.start_time <= $1
                        order by d.start_time desc nulls last limit 1) last_run
    where r.kind = 'cron_failed' and r.enabled and j.active and last_run.status = 'failed'
      and (r.target is null or j.jobname = r.target)
    group by r.name, r.threshold, r.severity, r.window_seconds, r.for_seconds, r.clear_seconds
    having count(*) >= greatest(r.threshold, 1)
  $q$ using p_now;
end
$$;

-- Organisations with an AI-answered number whose webhook went quiet: fewer than `threshold`
-- webhook_logs rows (of the target source) in the window, at least min_events in the hour before
-- it (a business that rarely gets calls is not "down" when it gets none), and open for business at
-- both ends of the window (a quiet night is not an outage). Busy organisations are ruled out by one
-- pass over the window's rows; the hour before and business hours are read only for the quiet ones.
create or replace function public.alert_check_webhook_silence(p_now timestamptz)
returns setof public.alert_observation
language plpgsql stable
set search_path = ''
as $$
#variable_conflict use_column
declare
  v_orgs uuid[];
  v_max_window int;
begin
  select array_agg(distinct p.org_id) into v_orgs
    from public.phone_numbers p join public.ai_dispatcher_configs c on c.phone_number_id = p.id
    where p.ai_dispatcher_enabled;
  v_max_window := public.alert_kind_max_window('webhook_silence');
  if v_orgs is null or v_max_window is null then
    return;
  end if;
  return query
    with rules as materialized (
      select * from public.alert_org_rules('webhook_silence', v_orgs)
    ),
    -- One pass over the last window's rows (webhook_logs is written in time order: the BRIN index
    -- on created_at reads only the newest blocks), counted per organisation and rule.
    counted as (
      select e.rule_name, e.org_id,
             count(w.org_id) filter (where w.created_at > p_now - make_interval(secs => e.window_seconds)
                                       and (e.target is null or w.source = e.target)) as n
      from rules e
      left join public.webhook_logs w
        on w.org_id = e.org_id
       and w.created_at > p_now - make_interval(secs => v_max_window) and w.created_at <= p_now
      group by e.rule_name, e.org_id
    ),
    -- Materialized: the probes and the business-hours check below run only for the few quiet ones.
    quiet as materialized (
      select e.*, c.n as recent_n from rules e
      join counted c on c.rule_name = e.rule_name and c.org_id = e.org_id
      where c.n < e.threshold
    )
    select q.rule_name, q.org_id, q.recent_n::float8, q.threshold, q.severity, q.window_seconds,
           q.for_seconds, q.clear_seconds,
           jsonb_build_object('source', q.target, 'requests', q.recent_n, 'requests_hour_before', before.n)
    from quiet q
    cross join lateral (
      select count(*) as n from (
        select 1 from public.webhook_logs w
        where w.org_id = q.org_id and (q.target is null or w.source = q.target)
          and w.created_at > p_now - make_interval(secs => q.window_seconds) - interval '1 hour'
          and w.created_at <= p_now - make_interval(secs => q.window_seconds)
        limit greatest(q.min_events, 1)) s) before
    where before.n >= q.min_events
      and public.alert_org_open_at(q.org_id, p_now)
      and public.alert_org_open_at(q.org_id, p_now - make_interval(secs => q.window_seconds));
end
$$;

-- Organisations with at least `threshold` rows of p_table matching p_filter (a fixed condition
-- written below, never input) whose p_time_column is older than the rule's window: the evaluator
-- behind "undelivered outbox messages" and "customers waiting for a human". Details:
-- {<p_count_key>: n, "oldest": the oldest time, "longest_wait_seconds": its age}. Inert while
-- p_table does not exist. Who may call: evaluate_alerts(). Changes nothing.
create or replace function public.alert_check_aged_rows(
  p_now timestamptz, p_kind text, p_table text, p_time_column text, p_filter text, p_count_key text)
returns setof public.alert_observation
language plpgsql stable
set search_path = ''
as $$
declare
  v_min_window int;
begin
  if to_regclass(p_table) is null then
    return;
  end if;
  select least(min(r.window_seconds), min(ov.window_seconds)) into v_min_window
    from public.alert_rules r left join public.alert_rule_overrides ov on ov.rule_name = r.name
    where r.kind = p_kind;
  return query execute format($q$
    with aged as (
      select t.org_id, t.%2$I as at from %1$s t
      where (%3$s) and t.%2$I < $1 - make_interval(secs => $2)
    ), rules as (
      select * from public.alert_org_rules($3, array(select distinct a.org_id from aged a))
    )
    select e.rule_name, e.org_id, count(*)::float8, e.threshold, e.severity, e.window_seconds,
           e.for_seconds, e.clear_seconds,
           jsonb_build_object($4, count(*), 'oldest', min(a.at),
                              'longest_wait_seconds', round(extract(epoch from $1 - min(a.at))::numeric))
    from rules e
    join aged a on a.org_id = e.org_id and a.at < $1 - make_interval(secs => e.window_seconds)
    group by e.rule_name, e.org_id, e.threshold, e.severity, e.window_seconds, e.for_seconds, e.clear_seconds
    having count(*) >= greatest(e.threshold, 1)
  $q$, to_regclass(p_table), p_time_column, p_filter)
  using p_now, coalesce(v_min_window, 300), p_kind, p_count_key;
end
$$;

-- Organisations with at least `threshold` outbox messages undelivered (pending, sending or failed)
-- for longer than the window.
create or replace function public.alert_check_outbox_stuck(p_now timestamptz)
returns setof public.alert_observation
language sql stable
set search_path = ''
as $$
  select * from public.alert_check_aged_rows(p_now, 'outbox_stuck', 'public.outbox', 'created_at',
    $f$t.status in ('pending', 'sending', 'failed')$f$, 'undelivered')
$$;

-- Organisations with at least `threshold` customers waiting for a human (agent_sessions in status
-- 'waiting') for longer than the window.
create or replace function public.alert_check_customers_waiting(p_now timestamptz)
returns setof public.alert_observation
language sql stable
set search_path = ''
as $$
  select * from public.alert_check_aged_rows(p_now, 'customers_waiting', 'public.agent_sessions', 'queued_at',
    $f$t.status = 'waiting'$f$, 'waiting')
$$;

-- Organisations whose LLM calls in the window failed (error_code set) more often than the
-- threshold, over at least min_events calls. Inert until public.llm_calls exists.
create or replace function public.alert_check_llm_error_rate(p_now timestamptz)
returns setof public.alert_observation
language plpgsql stable
set search_path = ''
as $$
begin
  if to_regclass('public.llm_calls') is null then
    return;
  end if;
  return query execute $q$
    with calls as (
      select l.org_id, l.created_at, l.error_code is not null as failed from public.llm_calls l
      where l.created_at > $1 - make_interval(secs => $2) and l.created_at <= $1
    ), rules as (
      select * from public.alert_org_rules('llm_error_rate', array(select distinct c.org_id from calls c))
    )
    select e.rule_name, e.org_id, (count(*) filter (where c.failed))::float8 / count(*), e.threshold, e.severity,
           e.window_seconds, e.for_seconds, e.clear_seconds,
           jsonb_build_object('calls', count(*), 'failed', count(*) filter (where c.failed))
    from rules e
    join calls c on c.org_id = e.org_id and c.created_at > $1 - make_interval(secs => e.window_seconds)
    group by e.rule_name, e.org_id, e.threshold, e.severity, e.window_seconds, e.for_seconds, e.clear_seconds,
             e.min_events
    having count(*) >= greatest(e.min_events, 1)
       and (count(*) filter (where c.failed))::float8 / count(*) > e.threshold
  $q$ using p_now, coalesce(public.alert_kind_max_window('llm_error_rate'), 600);
end
$$;

revoke execute on function public.alert_check_http_latency(timestamptz), public.alert_check_http_error_rate(timestamptz),
  public.alert_check_cache_hit_ratio(timestamptz), public.alert_check_breaker_open(timestamptz),
  public.alert_check_cron_failed(timestamptz), public.alert_check_webhook_silence(timestamptz),
  public.alert_check_outbox_stuck(timestamptz), public.alert_check_customers_waiting(timestamptz),
  public.alert_check_llm_error_rate(timestamptz),
  public.alert_check_aged_rows(timestamptz, text, text, text, text, text) from public, anon, authenticated;
grant execute on function public.alert_check_http_latency(timestamptz), public.alert_check_http_error_rate(timestamptz),
  public.alert_check_cache_hit_ratio(timestamptz), public.alert_check_breaker_open(timestamptz),
  public.alert_check_cron_failed(timestamptz), public.alert_check_webhook_silence(timestamptz),
  public.alert_check_outbox_stuck(timestamptz), public.alert_check_customers_waiting(timestamptz),
  public.alert_check_llm_error_rate(timestamptz),
  public.alert_check_aged_rows(timestamptz, text, text, text, text, text) to service_role;

-- ---------------------------------------------------------------------------------------------
-- Notices
-- ---------------------------------------------------------------------------------------------

-- A value as people read it: 0.125 as "12.5 %" for ratios, "2350 ms", "3".
-- Who may call: anyone. Changes nothing.
create or replace function public.alert_format_value(p_unit text, p_value float8) returns text
language sql immutable
set search_path = ''
as $$
  select case
    when p_value is null then 'n/a'
    when p_unit = 'ratio' then trim(to_char(p_value * 100, 'FM999990.0')) || ' %'
    when p_unit = 'ms' then round(p_value::numeric)::text || ' ms'
    when p_unit = 'seconds' then round(p_value::numeric)::text || ' s'
    else trim(to_char(p_value, 'FM999999999990.##'))
  end
$$;
grant execute on function public.alert_format_value(text, float8) to authenticated, service_role;

-- The body of a notice: Standard Webhooks' recommended shape ({type, timestamp, data}) plus a
-- top-level "text" so that a Slack or Microsoft Teams incoming webhook shows it as it is.
-- Who may call: alert_enqueue_notices(). Changes nothing.
create or replace function public.alert_notice_payload(p_incident public.alert_incidents, p_transition text,
                                                       p_now timestamptz)
returns jsonb
language sql stable
set search_path = ''
as $$
  select jsonb_build_object(
    'type', 'alert.' || p_transition,
    'timestamp', to_char(p_now at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'data', jsonb_build_object(
      'incident_id', p_incident.id,
      'status', p_transition,
      'rule', r.name,
      'kind', r.kind,
      'severity', p_incident.severity,
      'description', r.description,
      'org_id', p_incident.org_id,
      'org_name', o.name,
      'target', r.target,
      'value', p_incident.value,
      'threshold', p_incident.threshold,
      'unit', k.unit,
      'window_seconds', p_incident.window_seconds,
      'started_at', p_incident.started_at,
      'fired_at', p_incident.fired_at,
      'resolved_at', p_incident.resolved_at,
      'details', p_incident.details),
    'text', case p_transition
      when 'firing' then format('[FIRING] %s: %s%s. Observed %s (threshold %s, window %s s). Incident #%s since %s UTC.',
        p_incident.severity, r.description, coalesce(' for ' || o.name, ''),
        public.alert_format_value(k.unit, p_incident.value), public.alert_format_value(k.unit, p_incident.threshold),
        p_incident.window_seconds, p_incident.id,
        to_char(p_incident.started_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI'))
      else format('[RESOLVED] %s: %s%s. Clear since %s UTC; incident #%s fired at %s UTC.',
        p_incident.severity, r.description, coalesce(' for ' || o.name, ''),
        to_char(p_incident.cleared_since at time zone 'UTC', 'YYYY-MM-DD HH24:MI'), p_incident.id,
        to_char(p_incident.fired_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI'))
    end)
  from public.alert_rules r
  join public.alert_rule_kinds k on k.kind = r.kind
  left join public.orgs o on o.id = p_incident.org_id
  where r.name = p_incident.rule_name
$$;
revoke execute on function public.alert_notice_payload(public.alert_incidents, text, timestamptz) from public, anon, authenticated;
grant execute on function public.alert_notice_payload(public.alert_incidents, text, timestamptz) to service_role;

-- Queues one notice of a transition per enabled destination that should hear of it: the
-- organisation's own, and the operator's (org_id null), which hear of everything. The unique key
-- (incident, transition, destination) makes a second call for the same transition do nothing.
-- Who may call: alert_apply(). Changes alert_notices. Returns the number queued.
create or replace function public.alert_enqueue_notices(p_incident public.alert_incidents, p_transition text,
                                                        p_now timestamptz)
returns int
language plpgsql
set search_path = ''
as $$
declare
  v_n int;
begin
  insert into public.alert_notices (incident_id, org_id, destination_id, transition, payload, next_attempt_at, created_at)
  select p_incident.id, p_incident.org_id, d.id, p_transition,
         public.alert_notice_payload(p_incident, p_transition, p_now),
         -- Due at once, even when an evaluation runs with a shifted clock.
         least(p_now, now()), p_now
  from public.alert_destinations d
  where d.enabled and (d.org_id is null or d.org_id = p_incident.org_id)
  on conflict on constraint alert_notices_once do nothing;
  get diagnostics v_n = row_count;
  return v_n;
end
$$;
revoke execute on function public.alert_enqueue_notices(public.alert_incidents, text, timestamptz) from public, anon, authenticated;
grant execute on function public.alert_enqueue_notices(public.alert_incidents, text, timestamptz) to service_role;

-- ---------------------------------------------------------------------------------------------
-- Reconciling incidents with observations
-- ---------------------------------------------------------------------------------------------

-- Applies one kind's observations at p_now:
--   observed, no open incident   → a new incident: firing at once when for_seconds is 0 (notices
--                                  queued), else pending;
--   observed, pending            → firing once it has been pending for for_seconds (notices);
--                                  (for_seconds and clear_seconds are met within alert_tick_slack())
--   observed, firing             → value and details refreshed; a clear spell ends;
--   not observed, pending        → deleted: nothing happened that anyone was told about;
--   not observed, firing         → clear since now (kept if already clear), and resolved once clear
--                                  for clear_seconds (notices).
-- Returns {"observed", "opened", "fired", "resolved", "dropped", "notices"}.
-- Who may call: evaluate_alerts() (which holds the evaluation lock). Changes alert_incidents,
-- alert_incident_events, alert_notices.
create or replace function public.alert_apply(p_kind text, p_now timestamptz, p_observations public.alert_observation[])
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_obs public.alert_observation;
  v_old public.alert_incidents;
  v_new public.alert_incidents;
  v_opened int := 0;
  v_fired int := 0;
  v_resolved int := 0;
  v_dropped int := 0;
  v_notices int := 0;
begin
  foreach v_obs in array coalesce(p_observations, '{}') loop
    select * into v_old from public.alert_incidents i
      where i.rule_name = v_obs.rule_name and i.org_id is not distinct from v_obs.org_id and i.status <> 'resolved'
      for update;
    if not found then
      insert into public.alert_incidents (rule_name, org_id, status, severity, value, threshold, window_seconds,
                                          clear_seconds, details, started_at, fired_at, last_seen_at)
      values (v_obs.rule_name, v_obs.org_id, case when v_obs.for_seconds = 0 then 'firing' else 'pending' end,
              v_obs.severity, v_obs.value, v_obs.threshold, v_obs.window_seconds, v_obs.clear_seconds,
              coalesce(v_obs.details, '{}'::jsonb), p_now, case when v_obs.for_seconds = 0 then p_now end, p_now)
      -- The one-open-incident index is the backstop should two evaluations ever race.
      on conflict do nothing
      returning * into v_new;
      if v_new.id is null then
        continue;
      end if;
      v_opened := v_opened + 1;
      insert into public.alert_incident_events (incident_id, org_id, at, kind, value, details)
        values (v_new.id, v_new.org_id, p_now, v_new.status, v_new.value, v_new.details);
      if v_new.status = 'firing' then
        v_fired := v_fired + 1;
        v_notices := v_notices + public.alert_enqueue_notices(v_new, 'firing', p_now);
      end if;
    else
      update public.alert_incidents i set
        value = v_obs.value, details = coalesce(v_obs.details, '{}'::jsonb), severity = v_obs.severity,
        threshold = v_obs.threshold, window_seconds = v_obs.window_seconds, clear_seconds = v_obs.clear_seconds,
        last_seen_at = p_now, cleared_since = null,
        status = case when i.status = 'pending'
                           and p_now - i.started_at >= make_interval(secs => v_obs.for_seconds) - public.alert_tick_slack()
                      then 'firing' else i.status end,
        fired_at = case when i.status = 'pending'
                             and p_now - i.started_at >= make_interval(secs => v_obs.for_seconds) - public.alert_tick_slack()
                        then p_now else i.fired_at end
      where i.id = v_old.id
      returning * into v_new;
      if v_old.status = 'pending' and v_new.status = 'firing' then
        v_fired := v_fired + 1;
        insert into public.alert_incident_events (incident_id, org_id, at, kind, value, details)
          values (v_new.id, v_new.org_id, p_now, 'firing', v_new.value, v_new.details);
        v_notices := v_notices + public.alert_enqueue_notices(v_new, 'firing', p_now);
      end if;
    end if;
  end loop;

  -- Open incidents of this kind's rules that were not observed now.
  delete from public.alert_incidents i
    using public.alert_rules r
    where r.name = i.rule_name and r.kind = p_kind and i.status = 'pending'
      and not exists (select 1 from unnest(p_observations) o
                      where o.rule_name = i.rule_name and o.org_id is not distinct from i.org_id);
  get diagnostics v_dropped = row_count;

  update public.alert_incidents i set cleared_since = p_now
    from public.alert_rules r
    where r.name = i.rule_name and r.kind = p_kind and i.status = 'firing' and i.cleared_since is null
      and not exists (select 1 from unnest(p_observations) o
                      where o.rule_name = i.rule_name and o.org_id is not distinct from i.org_id);

  for v_new in
    update public.alert_incidents i set status = 'resolved', resolved_at = p_now
      from public.alert_rules r
      where r.name = i.rule_name and r.kind = p_kind and i.status = 'firing' and i.cleared_since is not null
        and p_now - i.cleared_since >= greatest(make_interval(secs => i.clear_seconds) - public.alert_tick_slack(), interval '0')
      returning i.*
  loop
    v_resolved := v_resolved + 1;
    insert into public.alert_incident_events (incident_id, org_id, at, kind, value, details)
      values (v_new.id, v_new.org_id, p_now, 'resolved', null,
              jsonb_build_object('clear_since', v_new.cleared_since));
    v_notices := v_notices + public.alert_enqueue_notices(v_new, 'resolved', p_now);
  end loop;

  return jsonb_build_object('observed', coalesce(cardinality(p_observations), 0), 'opened', v_opened,
    'fired', v_fired, 'resolved', v_resolved, 'dropped', v_dropped, 'notices', v_notices);
end
$$;
revoke execute on function public.alert_apply(text, timestamptz, public.alert_observation[]) from public, anon, authenticated;
grant execute on function public.alert_apply(text, timestamptz, public.alert_observation[]) to service_role;

-- ---------------------------------------------------------------------------------------------
-- Asking for delivery
-- ---------------------------------------------------------------------------------------------

-- When notices are due and pg_net is installed, POSTs to the alerts function's /deliver route
-- (the URL and bearer token are Vault secrets switchboard_alerts_url and switchboard_metrics_token;
-- see the README). pg_net sends the request only after the calling transaction commits, so the
-- function finds the notices this evaluation queued. Returns whether a request was queued.
-- Where pg_net or the secrets are absent (locally, in tests), it does nothing: npm start's timer
-- calls /deliver itself.
-- Who may call: evaluate_alerts(). Changes net.http_request_queue.
create or replace function public.alert_request_delivery(p_now timestamptz) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_url text;
  v_token text;
begin
  if not exists (select 1 from public.alert_notices n
                 where n.status in ('pending', 'sending') and n.next_attempt_at <= greatest(p_now, now())) then
    return false;
  end if;
  if to_regprocedure('net.http_post(text, jsonb, jsonb, jsonb, integer)') is null
     or to_regclass('vault.decrypted_secrets') is null then
    return false;
  end if;
  execute $q$select max(s.decrypted_secret) filter (where s.name = 'switchboard_alerts_url'),
                    max(s.decrypted_secret) filter (where s.name = 'switchboard_metrics_token')
             from vault.decrypted_secrets s
             where s.name in ('switchboard_alerts_url', 'switchboard_metrics_token')$q$
    into v_url, v_token;
  if v_url is null or v_token is null then
    return false;
  end if;
  execute 'select net.http_post(url := $1, body := $2, headers := $3, timeout_milliseconds := $4)'
    using rtrim(v_url, '/') || '/deliver', '{}'::jsonb,
          jsonb_build_object('content-type', 'application/json', 'authorization', 'Bearer ' || v_token), 30000;
  return true;
end
$$;
revoke execute on function public.alert_request_delivery(timestamptz) from public, anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- The entry point
-- ---------------------------------------------------------------------------------------------

-- Evaluates every alert rule at p_now (see the top of this file) and returns what happened:
--   {"kinds": n, "observed": n, "opened": n, "fired": n, "resolved": n, "dropped": n, "notices": n,
--    "errors": {"<kind>": "<sqlstate>"}, "delivery_requested": bool, "ms": x}
-- An evaluator that fails (a table another feature owns changed shape, say) is reported under
-- "errors" and its kind's incidents are left as they were; the other kinds go on. Two runs at once
-- (pg_cron and the dev timer, or a manual call) would race for the same incidents: a
-- transaction-level advisory lock makes the second return {"skipped": "already running"}.
-- security definer: pg_cron may run it as a role that cannot read every table it reads.
-- Who may call: pg_cron, npm start's timer, the service role. Changes alert_incidents,
-- alert_incident_events, alert_notices, alert_metric_snapshots.
create or replace function public.evaluate_alerts(p_now timestamptz default now()) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  c_lock_key constant bigint := 7300700001;  -- any constant unique to this function
  -- Snapshots are kept this much longer than the longest metric rule's window.
  c_snapshot_margin constant interval := '10 minutes';
  c_prune_batch constant int := 5000;
  v_started timestamptz := clock_timestamp();
  v_kind record;
  v_observations public.alert_observation[];
  v_step jsonb;
  v_totals jsonb := '{"observed": 0, "opened": 0, "fired": 0, "resolved": 0, "dropped": 0, "notices": 0}';
  v_errors jsonb := '{}'::jsonb;
  v_kinds int := 0;
  v_keep interval;
  v_key text;
begin
  if p_now is null then
    raise exception 'evaluate_alerts: p_now must be given' using errcode = '22023';
  end if;
  if not pg_catalog.pg_try_advisory_xact_lock(c_lock_key) then
    return jsonb_build_object('skipped', 'already running');
  end if;

  -- 1. The counters that enabled metric rules read, as they are now, and a marker row, so that a
  --    snapshot exists even before the first request is counted (a series missing from a baseline
  --    snapshot counts from zero).
  insert into public.alert_metric_snapshots (taken_at, name, labels, value)
  select p_now, m.name, m.labels, m.value
  from public.metric_samples m
  where m.name = any (array(
    select distinct unnest(k.metrics) from public.alert_rule_kinds k
    where exists (select 1 from public.alert_rules r where r.kind = k.kind and r.enabled)))
  union all
  select p_now, 'switchboard_alert_snapshot', '{}'::jsonb, 0
  where exists (select 1 from public.alert_rules r join public.alert_rule_kinds k on k.kind = r.kind
                where r.enabled and cardinality(k.metrics) > 0)
  on conflict do nothing;

  -- 2 and 3. Every kind that has a rule on (or switched on by an override), or an open incident.
  for v_kind in
    select k.kind, k.evaluator from public.alert_rule_kinds k
    where exists (
      select 1 from public.alert_rules r
      where r.kind = k.kind
        and (r.enabled
             or exists (select 1 from public.alert_rule_overrides ov where ov.rule_name = r.name and ov.enabled)
             or exists (select 1 from public.alert_incidents i where i.rule_name = r.name and i.status <> 'resolved')))
    order by k.kind
  loop
    v_kinds := v_kinds + 1;
    begin
      if to_regproc(v_kind.evaluator) is null then
        raise exception 'evaluator % is missing', v_kind.evaluator using errcode = '42883';
      end if;
      execute format('select coalesce(array_agg(o), ''{}'') from %s($1) o', to_regproc(v_kind.evaluator))
        into v_observations using p_now;
      -- Nothing observed and nothing open: nothing to reconcile (the usual case, kept cheap).
      continue when cardinality(v_observations) = 0 and not exists (
        select 1 from public.alert_incidents i join public.alert_rules r on r.name = i.rule_name
        where r.kind = v_kind.kind and i.status <> 'resolved');
      v_step := public.alert_apply(v_kind.kind, p_now, v_observations);
      foreach v_key in array array['observed', 'opened', 'fired', 'resolved', 'dropped', 'notices'] loop
        v_totals := jsonb_set(v_totals, array[v_key], to_jsonb((v_totals ->> v_key)::int + (v_step ->> v_key)::int));
      end loop;
    exception when others then
      v_errors := v_errors || jsonb_build_object(v_kind.kind, sqlstate);
      raise warning 'evaluate_alerts: kind % failed (%)', v_kind.kind, sqlstate;
    end;
  end loop;

  -- Snapshots no window can reach any more, in a bounded batch.
  select make_interval(secs => coalesce(max(r.window_seconds), 0)) + c_snapshot_margin into v_keep
    from public.alert_rules r join public.alert_rule_kinds k on k.kind = r.kind
    where cardinality(k.metrics) > 0;
  delete from public.alert_metric_snapshots s
    where s.ctid = any (array(select s2.ctid from public.alert_metric_snapshots s2
                              where s2.taken_at < p_now - v_keep limit c_prune_batch));

  return v_totals || jsonb_build_object(
    'kinds', v_kinds,
    'errors', v_errors,
    'delivery_requested', public.alert_request_delivery(p_now),
    'ms', round((extract(epoch from clock_timestamp() - v_started) * 1000)::numeric, 3));
end
$$;
revoke execute on function public.evaluate_alerts(timestamptz) from public, anon, authenticated;
grant execute on function public.evaluate_alerts(timestamptz) to service_role;

-- ---------------------------------------------------------------------------------------------
-- History retention: resolved incidents (with their timeline and notices) older than 90 days go,
-- in bounded batches, with the rest of the maintenance.
-- ---------------------------------------------------------------------------------------------
-- Who may call: run_maintenance_tasks(), the service role. Changes: deletes at most p_batch
-- incidents (cascading to their events and notices). Returns the number deleted.
create or replace function public.cleanup_old_alert_incidents(p_now timestamptz default now(), p_batch int default 5000)
returns bigint
language plpgsql
set search_path = ''
as $$
declare
  c_keep constant interval := '90 days';
  v_n bigint;
begin
  delete from public.alert_incidents i
    where i.id = any (array(select i2.id from public.alert_incidents i2
                            where i2.status = 'resolved' and i2.resolved_at < p_now - c_keep
                            order by i2.resolved_at limit p_batch));
  get diagnostics v_n = row_count;
  return v_n;
end
$$;
revoke execute on function public.cleanup_old_alert_incidents(timestamptz, int) from public, anon, authenticated;
grant execute on function public.cleanup_old_alert_incidents(timestamptz, int) to service_role;

insert into public.maintenance_tasks (name, position, call, analyzed_table, requires_function) values
  ('alert_incidents', 70, 'select public.cleanup_old_alert_incidents($1)', 'public.alert_incidents',
   'public.cleanup_old_alert_incidents(timestamptz, integer)')
on conflict (name) do update set position = excluded.position, call = excluded.call,
  analyzed_table = excluded.analyzed_table, requires_function = excluded.requires_function;

-- Every minute where pg_cron runs (npm start's timer elsewhere).
select public.register_scheduled_job('switchboard-alerts', '* * * * *', 'select public.evaluate_alerts()');
