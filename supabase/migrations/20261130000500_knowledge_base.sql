-- Knowledge base: an organisation's own articles (Markdown or plain text), split into sections by
-- heading, searched by full text everywhere and by vector similarity where pgvector exists, so that
-- the chat bot answers customers from them, cites them, and says it does not know when they do not
-- cover a question.
--
-- Why in SQL: sectioning runs in a trigger, so documents written by the `knowledge` function, by a
-- seed file or by hand in the SQL console are all sectioned the same way (no function runs at seed
-- time). The vocabulary (for typo correction and term weights) and the embedding queue are kept by
-- triggers too. One search function serves the bot and the management API's `search` route.
--
-- Extensions: pg_trgm (typo correction: every Postgres with contrib, Supabase and PGlite have it);
-- vector (pgvector) only where available: Supabase and the embedded database have it, a plain
-- Postgres may not. Without it there is no embedding column and the search is full text only; after
-- installing it later, `select public.knowledge_enable_vectors()` adds what it needs.

create extension if not exists pg_trgm with schema extensions;
do $$
begin
  if exists (select 1 from pg_catalog.pg_available_extensions where name = 'vector') then
    create extension if not exists vector with schema extensions;
  end if;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Language → text search configuration
-- ---------------------------------------------------------------------------------------------

-- The text search configuration for a language tag ('en', 'fr-CA', 'spanish', ...): Postgres's own
-- configuration for that language where it has one, else 'simple' (no stemming, no stop words).
-- Who may call: anyone (pure lookup). Changes nothing.
create or replace function public.knowledge_config(p_language text) returns regconfig
language sql stable
set search_path = ''
as $$
  select coalesce(
    (select c.oid::regconfig from pg_catalog.pg_ts_config c
     where c.cfgnamespace = 'pg_catalog'::regnamespace
       and c.cfgname = case lower(split_part(coalesce(p_language, ''), '-', 1))
         when 'en' then 'english' when 'fr' then 'french' when 'es' then 'spanish' when 'de' then 'german'
         when 'it' then 'italian' when 'pt' then 'portuguese' when 'nl' then 'dutch' when 'sv' then 'swedish'
         when 'da' then 'danish' when 'fi' then 'finnish' when 'hu' then 'hungarian' when 'nb' then 'norwegian'
         when 'no' then 'norwegian' when 'nn' then 'norwegian' when 'ro' then 'romanian' when 'ru' then 'russian'
         when 'tr' then 'turkish' when 'ar' then 'arabic' when 'el' then 'greek' when 'id' then 'indonesian'
         when 'ga' then 'irish' when 'lt' then 'lithuanian' when 'ne' then 'nepali' when 'sr' then 'serbian'
         when 'ta' then 'tamil' when 'hy' then 'armenian' when 'eu' then 'basque' when 'ca' then 'catalan'
         when 'hi' then 'hindi' when 'yi' then 'yiddish'
         else lower(coalesce(p_language, '')) end),
    'pg_catalog.simple'::regconfig)
$$;
grant execute on function public.knowledge_config(text) to anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------------

create table public.knowledge_documents (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.orgs (id) on delete cascade,
  title text not null,
  body text not null,
  format text not null default 'markdown',
  tags text[] not null default '{}',
  url text,
  -- A BCP 47 tag ('en', 'fr-CA'); picks the text search configuration (knowledge_config).
  language text not null default 'en',
  -- The caller's own key for the document (e.g. its path in a help centre): POST with the same key
  -- replaces the document instead of adding a second one.
  external_id text,
  -- sha256 of what the sections are made of (title, body, format, tags, language), set by a
  -- trigger: an update that leaves it unchanged re-sections nothing.
  content_hash bytea not null default '\x'::bytea,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),

  constraint knowledge_documents_title_length check (length(btrim(title)) between 1 and 300),
  constraint knowledge_documents_body_length check (length(body) between 1 and 200000),
  constraint knowledge_documents_format_valid check (format in ('markdown', 'text')),
  constraint knowledge_documents_tags_bounded check (cardinality(tags) <= 50),
  constraint knowledge_documents_url_http check (url ~ '^https?://[^\s]+$' and length(url) <= 2000),
  constraint knowledge_documents_language_tag check (language ~ '^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$'),
  constraint knowledge_documents_external_id_length check (length(external_id) between 1 and 200),
  -- Composite key for the sections' foreign key: a section belongs to a document of its own organisation.
  constraint knowledge_documents_id_org_key unique (id, org_id),
  constraint knowledge_documents_external_id_key unique (org_id, external_id)
);
comment on table public.knowledge_documents is
  'An organisation''s articles the bot answers from. Sectioned by a trigger (knowledge_section_document).';
comment on constraint knowledge_documents_external_id_key on public.knowledge_documents is
  'One document per caller key and organisation: re-ingesting by external_id replaces, never duplicates.';
create index knowledge_documents_org_idx on public.knowledge_documents (org_id, updated_at desc);

create table public.knowledge_sections (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null,
  document_id uuid not null,
  -- Order in the document (1-based); a long section cut in parts has one row per part.
  ordinal int not null,
  -- The nearest heading above the text (null for text before the first heading or plain text).
  heading text,
  content text not null,
  part int not null default 1,
  parts int not null default 1,
  config regconfig not null,
  -- Heading weighs A, the document's title B, its tags C, the text D.
  fts tsvector not null,
  -- sha256 of everything the section's index and embedding are made of (document title, tags and
  -- language, heading, content): unchanged sections keep their row, id and embedding when their
  -- document is re-ingested; sections are never updated in place except for their position.
  content_hash bytea not null,
  created_at timestamptz not null default now(),

  constraint knowledge_sections_document_fk foreign key (document_id, org_id)
    references public.knowledge_documents (id, org_id) on delete cascade,
  constraint knowledge_sections_parts_valid check (part between 1 and parts),
  -- Two identical passages of one document are stored once.
  constraint knowledge_sections_content_key unique (document_id, content_hash)
);
comment on table public.knowledge_sections is
  'Sections of knowledge_documents, written only by the sectioning trigger.';
create index knowledge_sections_fts_idx on public.knowledge_sections using gin (fts);
create index knowledge_sections_org_idx on public.knowledge_sections (org_id, config);

-- The words an organisation's sections use, per text search configuration, with the number of
-- sections using each: the search weighs rare words more and maps a misspelt word to the nearest
-- known one (pg_trgm). Kept by statement triggers on knowledge_sections.
create table public.knowledge_terms (
  org_id uuid not null references public.orgs (id) on delete cascade,
  config regconfig not null,
  lexeme text not null,
  sections int not null,
  primary key (org_id, config, lexeme),
  constraint knowledge_terms_sections_positive check (sections > 0)
);
comment on table public.knowledge_terms is
  'Vocabulary of each organisation''s sections (lexeme → number of sections), kept by triggers.';
create index knowledge_terms_trgm_idx on public.knowledge_terms using gin (lexeme extensions.gin_trgm_ops);

-- Words customers wrap around a question that say nothing about its subject ("hi", "wondering",
-- "guys"): dropped from queries, so that they neither dilute the match nor count as a subject the
-- documents do not cover. Per language (the configuration's name); stemmed at query time.
create table public.knowledge_query_stopwords (
  config text not null,
  word text not null,
  primary key (config, word)
);
comment on table public.knowledge_query_stopwords is
  'Conversational filler removed from knowledge queries, per text search configuration name.';
insert into public.knowledge_query_stopwords (config, word)
select 'english', w from unnest(string_to_array(
  'hi hello hey hiya thanks thank please pls plz guys guy folks wondering wonder wondered question questions ' ||
  'ask asking know knowing tell telling want wanted wanting need needing like would could might may ' ||
  'maybe perhaps just really actually also still quick quickly okay ok yes yeah sure anyone somebody ' ||
  'someone something anything thing things get got getting let help kind sort possible possibly ' ||
  'curious interested regarding about info information good great morning afternoon evening day ' ||
  'say said find finding look looking whether wonder wondering hoping hope offer offered provide ' ||
  'available come came coming much many take u ur r pls', ' ')) as w
on conflict do nothing;

-- Per-organisation thresholds of the bot's gate; null means the function's default setting
-- (KNOWLEDGE_MIN_TEXT_SCORE, KNOWLEDGE_MIN_SIMILARITY).
create table public.knowledge_settings (
  org_id uuid primary key references public.orgs (id) on delete cascade,
  min_text_score real,
  min_similarity real,
  updated_at timestamptz not null default now(),
  constraint knowledge_settings_text_range check (min_text_score > 0 and min_text_score <= 1),
  constraint knowledge_settings_similarity_range check (min_similarity > -1 and min_similarity <= 1)
);
comment on table public.knowledge_settings is
  'The organisation''s answer thresholds; null columns use the defaults from the environment.';

-- Embedding work: one row per section waiting for its vector. Claimed with FOR UPDATE SKIP LOCKED by
-- the `knowledge` function's process route (called by the sweep timer and after a document is
-- written), retried with backoff, given up after c_max_attempts (dead_at set, kept for operators).
create table public.knowledge_embedding_jobs (
  section_id uuid primary key references public.knowledge_sections (id) on delete cascade,
  org_id uuid not null references public.orgs (id) on delete cascade,
  attempts int not null default 0,
  next_attempt_at timestamptz not null default now(),
  locked_until timestamptz,
  last_error text,
  dead_at timestamptz,
  created_at timestamptz not null default now(),
  constraint knowledge_embedding_jobs_attempts_nonnegative check (attempts >= 0),
  constraint knowledge_embedding_jobs_error_length check (length(last_error) <= 500)
);
comment on table public.knowledge_embedding_jobs is
  'Sections waiting for an embedding (one row each: queueing twice is harmless). Never processed inside a customer''s request.';
create index knowledge_embedding_jobs_due_idx on public.knowledge_embedding_jobs (next_attempt_at)
  where dead_at is null;

-- ---------------------------------------------------------------------------------------------
-- RLS: an organisation's knowledge is its own. Members read; supervisors (owners, admins, and
-- support agents with the supervisor role where that table exists) write documents and settings.
-- Sections, terms and jobs are written only by the triggers and functions below.
-- ---------------------------------------------------------------------------------------------

-- The organisations whose knowledge base the current JWT user may edit. security definer so that
-- RLS policies can call it; support_agents is read only where it exists (the agents' migration).
-- Who may call: RLS policies, the knowledge function (as the user). Changes nothing.
create or replace function public.knowledge_editor_org_ids() returns setof uuid
language plpgsql stable security definer
set search_path = ''
as $$
begin
  return query select m.org_id from public.org_members m
    where m.user_id = auth.uid() and m.role in ('owner', 'admin');
  if to_regclass('public.support_agents') is not null then
    return query execute
      'select a.org_id from public.support_agents a where a.user_id = $1 and a.role = ''supervisor'''
      using auth.uid();
  end if;
end
$$;
revoke execute on function public.knowledge_editor_org_ids() from public, anon;
grant execute on function public.knowledge_editor_org_ids() to authenticated, service_role;

alter table public.knowledge_documents enable row level security;
alter table public.knowledge_sections enable row level security;
alter table public.knowledge_terms enable row level security;
alter table public.knowledge_query_stopwords enable row level security;
alter table public.knowledge_settings enable row level security;
alter table public.knowledge_embedding_jobs enable row level security;

create policy knowledge_documents_read on public.knowledge_documents for select to authenticated
  using (org_id in (select public.user_org_ids()) or org_id in (select public.knowledge_editor_org_ids()));
create policy knowledge_documents_write on public.knowledge_documents for all to authenticated
  using (org_id in (select public.knowledge_editor_org_ids()))
  with check (org_id in (select public.knowledge_editor_org_ids()));
create policy knowledge_sections_read on public.knowledge_sections for select to authenticated
  using (org_id in (select public.user_org_ids()) or org_id in (select public.knowledge_editor_org_ids()));
create policy knowledge_settings_read on public.knowledge_settings for select to authenticated
  using (org_id in (select public.user_org_ids()) or org_id in (select public.knowledge_editor_org_ids()));
create policy knowledge_settings_write on public.knowledge_settings for all to authenticated
  using (org_id in (select public.knowledge_editor_org_ids()))
  with check (org_id in (select public.knowledge_editor_org_ids()));
create policy knowledge_query_stopwords_read on public.knowledge_query_stopwords for select to authenticated
  using (true);

revoke all on public.knowledge_documents, public.knowledge_sections, public.knowledge_terms,
  public.knowledge_query_stopwords, public.knowledge_settings, public.knowledge_embedding_jobs
  from anon, authenticated;
grant select, insert, update, delete on public.knowledge_documents, public.knowledge_settings to authenticated;
grant select on public.knowledge_sections, public.knowledge_query_stopwords to authenticated;
grant select, insert, update, delete on public.knowledge_documents, public.knowledge_sections,
  public.knowledge_terms, public.knowledge_query_stopwords, public.knowledge_settings,
  public.knowledge_embedding_jobs to service_role;

create trigger knowledge_documents_touch before update on public.knowledge_documents
  for each row execute function public.touch_updated_at();
create trigger knowledge_settings_touch before update on public.knowledge_settings
  for each row execute function public.touch_updated_at();
select public.enable_audit('public.knowledge_documents');

-- ---------------------------------------------------------------------------------------------
-- Sectioning
-- ---------------------------------------------------------------------------------------------

-- Cuts a text into pieces of at most p_max_chars characters: whole paragraphs where they fit, else
-- sentences, else words (a word longer than the limit is cut). Pieces are packed greedily.
-- Who may call: anyone (pure). Changes nothing.
create or replace function public.knowledge_pack(p_text text, p_max_chars int) returns text[]
language plpgsql immutable
set search_path = ''
as $$
declare
  v_units text[] := '{}';
  v_joins text[] := '{}';
  v_out text[] := '{}';
  v_cur text := '';
  v_para text;
  v_sentence text;
  v_word text;
  v_piece text;
  i int;
begin
  if p_max_chars < 50 then
    raise exception 'knowledge_pack: p_max_chars must be at least 50' using errcode = '22023';
  end if;
  if length(p_text) <= p_max_chars then
    return array[p_text];
  end if;
  -- Units, each with the separator that goes before it when it joins the previous one.
  foreach v_para in array regexp_split_to_array(p_text, E'\\n[ \\t]*\\n\\s*') loop
    v_para := btrim(v_para, E' \t\n');
    continue when v_para = '';
    if length(v_para) <= p_max_chars then
      v_units := v_units || v_para; v_joins := v_joins || E'\n\n'::text;
      continue;
    end if;
    i := 0;
    foreach v_sentence in array regexp_split_to_array(v_para, E'(?<=[.!?])\\s+') loop
      i := i + 1;
      if length(v_sentence) <= p_max_chars then
        v_units := v_units || v_sentence; v_joins := v_joins || (case when i = 1 then E'\n\n' else ' ' end);
        continue;
      end if;
      foreach v_word in array regexp_split_to_array(v_sentence, E'\\s+') loop
        while length(v_word) > p_max_chars loop
          v_units := v_units || left(v_word, p_max_chars); v_joins := v_joins || ' '::text;
          v_word := substr(v_word, p_max_chars + 1);
        end loop;
        if v_word <> '' then
          v_units := v_units || v_word; v_joins := v_joins || ' '::text;
        end if;
      end loop;
    end loop;
  end loop;
  for i in 1 .. coalesce(array_length(v_units, 1), 0) loop
    v_piece := v_units[i];
    if v_cur = '' then
      v_cur := v_piece;
    elsif length(v_cur) + length(v_joins[i]) + length(v_piece) <= p_max_chars then
      v_cur := v_cur || v_joins[i] || v_piece;
    else
      v_out := v_out || v_cur;
      v_cur := v_piece;
    end if;
  end loop;
  if v_cur <> '' then
    v_out := v_out || v_cur;
  end if;
  return v_out;
end
$$;
grant execute on function public.knowledge_pack(text, int) to anon, authenticated, service_role;

-- Splits a document into sections: Markdown by ATX headings (# to ######, not inside ``` or ~~~
-- fences), each section keeping its heading; plain text is one section. Empty sections are dropped;
-- a section longer than p_max_chars is cut into parts (knowledge_pack), each keeping the heading.
-- Who may call: anyone (pure). Changes nothing.
create or replace function public.knowledge_split(p_body text, p_format text default 'markdown', p_max_chars int default 1200)
returns table (ordinal int, heading text, content text, part int, parts int)
language plpgsql immutable
set search_path = ''
as $$
declare
  v_lines text[] := regexp_split_to_array(replace(replace(coalesce(p_body, ''), E'\r\n', E'\n'), E'\r', E'\n'), E'\n');
  v_line text;
  v_fence text := null;
  v_heading text := null;
  v_buf text := '';
  v_headings text[] := '{}';
  v_bodies text[] := '{}';
  v_match text[];
  v_pieces text[];
  v_text text;
  i int;
  j int;
begin
  if p_format = 'markdown' then
    foreach v_line in array v_lines loop
      v_match := regexp_match(v_line, '^ {0,3}(```|~~~)');
      if v_match is not null then
        if v_fence is null then v_fence := v_match[1]; elsif v_fence = v_match[1] then v_fence := null; end if;
        v_buf := v_buf || v_line || E'\n';
        continue;
      end if;
      v_match := case when v_fence is null then regexp_match(v_line, '^ {0,3}#{1,6}[ \t]+(.*)$') end;
      if v_match is not null then
        v_headings := array_append(v_headings, v_heading);
        v_bodies := array_append(v_bodies, v_buf);
        v_heading := nullif(btrim(regexp_replace(v_match[1], '[ \t]+#+[ \t]*$', ''), E' \t'), '');
        v_buf := '';
      else
        v_buf := v_buf || v_line || E'\n';
      end if;
    end loop;
  else
    v_buf := array_to_string(v_lines, E'\n');
  end if;
  v_headings := array_append(v_headings, v_heading);
  v_bodies := array_append(v_bodies, v_buf);

  ordinal := 0;
  for i in 1 .. array_length(v_bodies, 1) loop
    v_text := btrim(v_bodies[i], E' \t\n');
    continue when v_text = '';
    v_pieces := public.knowledge_pack(v_text, p_max_chars);
    for j in 1 .. array_length(v_pieces, 1) loop
      ordinal := ordinal + 1;
      heading := v_headings[i];
      content := v_pieces[j];
      part := j;
      parts := array_length(v_pieces, 1);
      return next;
    end loop;
  end loop;
end
$$;
grant execute on function public.knowledge_split(text, text, int) to anon, authenticated, service_role;

-- Brings a document's sections in line with its text: sections whose title, tags, language, heading
-- and content are unchanged keep their row (id, embedding) and only get their new place; the others
-- are deleted and new ones inserted (the triggers below keep the vocabulary and queue embeddings).
-- Returns {"sections": n, "added": n, "removed": n}.
-- Who may call: the sectioning trigger; the service role (to re-section by hand). Changes
-- knowledge_sections (and, through their triggers, knowledge_terms and knowledge_embedding_jobs).
create or replace function public.knowledge_section_document(p_document_id uuid) returns jsonb
language plpgsql security definer
set search_path = ''
as $$
declare
  c_max_chars constant int := 1200;  -- characters per section: ~300 tokens, well under gte-small's 512
  v_doc public.knowledge_documents;
  v_config regconfig;
  v_removed int;
  v_added int;
begin
  select * into v_doc from public.knowledge_documents d where d.id = p_document_id;
  if not found then
    return null;
  end if;
  v_config := public.knowledge_config(v_doc.language);

  with fresh as (
    select distinct on (h.hash) s.ordinal, s.heading, s.content, s.part, s.parts, h.hash
    from public.knowledge_split(v_doc.body, v_doc.format, c_max_chars) s
    cross join lateral (select sha256(convert_to(
      v_doc.title || E'\x1f' || array_to_string(v_doc.tags, E'\x1e') || E'\x1f' || v_doc.language
      || E'\x1f' || coalesce(s.heading, '') || E'\x1f' || s.content, 'UTF8')) as hash) h
    order by h.hash, s.ordinal
  ), removed as (
    delete from public.knowledge_sections k
    where k.document_id = p_document_id
      and not exists (select 1 from fresh n where n.hash = k.content_hash)
    returning 1
  ), moved as (
    update public.knowledge_sections k
       set ordinal = n.ordinal, part = n.part, parts = n.parts
      from fresh n
     where k.document_id = p_document_id and k.content_hash = n.hash
       and (k.ordinal, k.part, k.parts) is distinct from (n.ordinal, n.part, n.parts)
    returning 1
  ), added as (
    insert into public.knowledge_sections (org_id, document_id, ordinal, heading, content, part, parts, config, fts, content_hash)
    select v_doc.org_id, p_document_id, n.ordinal, n.heading, n.content, n.part, n.parts, v_config,
           setweight(to_tsvector(v_config, coalesce(n.heading, '')), 'A')
           || setweight(to_tsvector(v_config, v_doc.title), 'B')
           || setweight(to_tsvector(v_config, array_to_string(v_doc.tags, ' ')), 'C')
           || setweight(to_tsvector(v_config, n.content), 'D'),
           n.hash
    from fresh n
    where not exists (select 1 from public.knowledge_sections k
                      where k.document_id = p_document_id and k.content_hash = n.hash)
    order by n.ordinal
    returning 1
  )
  select (select count(*) from removed), (select count(*) from added) into v_removed, v_added;

  return jsonb_build_object(
    'sections', (select count(*) from public.knowledge_sections k where k.document_id = p_document_id),
    'added', v_added, 'removed', v_removed);
end
$$;
revoke execute on function public.knowledge_section_document(uuid) from public, anon, authenticated;
grant execute on function public.knowledge_section_document(uuid) to service_role;

-- Before a document is written: its content hash. After: sections, only when the hash changed.
-- Who may call: the triggers. Changes the row (hash) / knowledge_sections.
create or replace function public.knowledge_documents_hash() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.content_hash := sha256(convert_to(
    new.title || E'\x1f' || new.body || E'\x1f' || new.format || E'\x1f' || array_to_string(new.tags, E'\x1e')
    || E'\x1f' || new.language, 'UTF8'));
  return new;
end
$$;

create or replace function public.knowledge_documents_section() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' or old.content_hash is distinct from new.content_hash then
    perform public.knowledge_section_document(new.id);
  end if;
  return null;
end
$$;
revoke execute on function public.knowledge_documents_section() from public, anon, authenticated;

create trigger knowledge_documents_hash before insert or update on public.knowledge_documents
  for each row execute function public.knowledge_documents_hash();
create trigger knowledge_documents_section after insert or update on public.knowledge_documents
  for each row execute function public.knowledge_documents_section();

-- Vocabulary upkeep, per statement (a document's sections arrive in one INSERT): counts added for
-- inserted sections, removed for deleted ones. Lexemes are upserted in key order so that two
-- documents of one organisation written at once wait for each other instead of deadlocking.
-- Who may call: the triggers. Changes knowledge_terms (and queues embeddings for new sections).
create or replace function public.knowledge_sections_added() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  insert into public.knowledge_terms as t (org_id, config, lexeme, sections)
  select a.org_id, a.config, w.lexeme, count(*)
  from added a cross join lateral unnest(tsvector_to_array(a.fts)) as w(lexeme)
  group by a.org_id, a.config, w.lexeme
  order by a.org_id, a.config, w.lexeme
  on conflict (org_id, config, lexeme) do update set sections = t.sections + excluded.sections;
  if public.knowledge_vectors_enabled() then
    insert into public.knowledge_embedding_jobs (section_id, org_id)
    select a.id, a.org_id from added a order by a.id
    on conflict (section_id) do nothing;
  end if;
  return null;
end
$$;

create or replace function public.knowledge_sections_removed() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  with gone as (
    select r.org_id, r.config, w.lexeme, count(*)::int as n
    from removed r cross join lateral unnest(tsvector_to_array(r.fts)) as w(lexeme)
    group by r.org_id, r.config, w.lexeme
  ), updated as (
    update public.knowledge_terms t set sections = t.sections - g.n
    from gone g
    where (t.org_id, t.config, t.lexeme) = (g.org_id, g.config, g.lexeme) and t.sections > g.n
    returning t.org_id, t.config, t.lexeme
  )
  delete from public.knowledge_terms t
  using gone g
  where (t.org_id, t.config, t.lexeme) = (g.org_id, g.config, g.lexeme) and t.sections <= g.n;
  return null;
end
$$;

revoke execute on function public.knowledge_sections_added(), public.knowledge_sections_removed()
  from public, anon, authenticated;

create trigger knowledge_sections_added after insert on public.knowledge_sections
  referencing new table as added for each statement execute function public.knowledge_sections_added();
create trigger knowledge_sections_removed after delete on public.knowledge_sections
  referencing old table as removed for each statement execute function public.knowledge_sections_removed();

-- ---------------------------------------------------------------------------------------------
-- Vectors (where pgvector exists)
-- ---------------------------------------------------------------------------------------------

-- True when knowledge_sections has its embedding column (pgvector present and enabled below).
-- Who may call: anyone granted below. Changes nothing.
create or replace function public.knowledge_vectors_enabled() returns boolean
language sql stable
set search_path = ''
as $$
  select exists (select 1 from pg_catalog.pg_attribute a
                 where a.attrelid = 'public.knowledge_sections'::regclass and a.attname = 'embedding'
                   and not a.attisdropped)
$$;
grant execute on function public.knowledge_vectors_enabled() to authenticated, service_role;

-- Adds the embedding columns to knowledge_sections where pgvector is installed, and queues every
-- section for an embedding. The column has no fixed dimension: an organisation may switch models
-- (gte-small's 384, text-embedding-3-small's 1536); search compares only vectors of the query's
-- model and length. There is no ANN index: search filters by organisation first and an exact scan of
-- one organisation's sections is both fast enough (thousands of rows) and exact. Safe to call twice;
-- returns whether vectors are enabled. Who may call: the database owner (this migration; by hand
-- after `create extension vector`). Changes knowledge_sections' columns and knowledge_embedding_jobs.
create or replace function public.knowledge_enable_vectors() returns boolean
language plpgsql
set search_path = ''
as $$
begin
  if not exists (select 1 from pg_catalog.pg_extension where extname = 'vector') then
    return false;
  end if;
  if not public.knowledge_vectors_enabled() then
    execute format('alter table public.knowledge_sections add column embedding %s.vector, '
                   'add column embedding_model text, add column embedded_at timestamptz',
                   (select n.nspname from pg_catalog.pg_extension e
                    join pg_catalog.pg_namespace n on n.oid = e.extnamespace where e.extname = 'vector'));
  end if;
  insert into public.knowledge_embedding_jobs (section_id, org_id)
  select s.id, s.org_id from public.knowledge_sections s order by s.id
  on conflict (section_id) do nothing;
  -- Only sections without a vector: the insert above may have queued some that have one.
  execute 'delete from public.knowledge_embedding_jobs j using public.knowledge_sections s
           where s.id = j.section_id and s.embedding is not null';
  return true;
end
$$;
revoke execute on function public.knowledge_enable_vectors() from public, anon, authenticated, service_role;
select public.knowledge_enable_vectors();

-- ---------------------------------------------------------------------------------------------
-- Embedding queue
-- ---------------------------------------------------------------------------------------------

-- Claims up to p_limit due jobs for p_lease and returns what to embed (the document's title, the
-- heading and the text). The race: the sweep timer and the processing that follows a document
-- write may run at once; SKIP LOCKED makes each take different rows, and the lease keeps a claimed
-- job away from the next run until it is completed or failed (or its worker died and the lease ran
-- out). Who may call: the service role (the knowledge function). Changes knowledge_embedding_jobs.
create or replace function public.knowledge_claim_embedding_jobs(
  p_limit int default 16, p_lease interval default interval '2 minutes', p_now timestamptz default now())
returns table (section_id uuid, org_id uuid, attempts int, input text)
language plpgsql security definer
set search_path = ''
as $$
#variable_conflict use_column
begin
  if p_now is null or p_limit is null or p_limit < 1 or p_limit > 256 or p_lease <= interval '0' then
    raise exception 'knowledge_claim_embedding_jobs: p_limit 1-256, a positive lease and p_now are required'
      using errcode = '22023';
  end if;
  return query
  with due as (
    select j.section_id from public.knowledge_embedding_jobs j
    where j.dead_at is null and j.next_attempt_at <= p_now and (j.locked_until is null or j.locked_until <= p_now)
    order by j.next_attempt_at, j.section_id
    limit p_limit
    for update skip locked
  ), claimed as (
    update public.knowledge_embedding_jobs j
       set locked_until = p_now + p_lease, attempts = j.attempts + 1
      from due where j.section_id = due.section_id
    returning j.section_id, j.org_id, j.attempts
  )
  select c.section_id, c.org_id, c.attempts,
         d.title || E'\n\n' || coalesce(s.heading || E'\n\n', '') || s.content
  from claimed c
  join public.knowledge_sections s on s.id = c.section_id
  join public.knowledge_documents d on d.id = s.document_id
  order by c.section_id;
end
$$;
revoke execute on function public.knowledge_claim_embedding_jobs(int, interval, timestamptz) from public, anon, authenticated;
grant execute on function public.knowledge_claim_embedding_jobs(int, interval, timestamptz) to service_role;

-- Stores vectors for claimed sections (p_vectors[i] belongs to p_section_ids[i], as pgvector text
-- '[0.1,0.2,...]') and removes their jobs. A section deleted meanwhile is skipped. Returns the
-- number stored. Who may call: the service role (the knowledge function). Changes
-- knowledge_sections' embedding columns and knowledge_embedding_jobs.
create or replace function public.knowledge_complete_embedding_jobs(
  p_section_ids uuid[], p_vectors text[], p_model text, p_now timestamptz default now())
returns int
language plpgsql security definer
set search_path = ''
as $$
declare
  v_n int;
begin
  if not public.knowledge_vectors_enabled() then
    raise exception 'knowledge_complete_embedding_jobs: pgvector is not enabled here' using errcode = '55000';
  end if;
  if cardinality(p_section_ids) <> cardinality(p_vectors) or p_model is null or length(p_model) > 200 then
    raise exception 'knowledge_complete_embedding_jobs: one vector per section and a model are required'
      using errcode = '22023';
  end if;
  execute format($q$
    update public.knowledge_sections s
       set embedding = v.vector::%1$s.vector, embedding_model = $3, embedded_at = $4
      from unnest($1::uuid[], $2::text[]) as v(id, vector)
     where s.id = v.id$q$,
    (select n.nspname from pg_catalog.pg_extension e join pg_catalog.pg_namespace n on n.oid = e.extnamespace
     where e.extname = 'vector'))
    using p_section_ids, p_vectors, p_model, p_now;
  get diagnostics v_n = row_count;
  delete from public.knowledge_embedding_jobs j where j.section_id = any (p_section_ids);
  return v_n;
end
$$;
revoke execute on function public.knowledge_complete_embedding_jobs(uuid[], text[], text, timestamptz) from public, anon, authenticated;
grant execute on function public.knowledge_complete_embedding_jobs(uuid[], text[], text, timestamptz) to service_role;

-- Gives claimed jobs back after a failed attempt: retried after 30 s, 1, 2, 4 ... minutes (at most
-- 6 hours) with up to 20% jitter so that a provider's outage does not end in one burst; after
-- c_max_attempts attempts the job is dead (dead_at) and stays for an operator. p_error is our own
-- short code or words, never the provider's text. Returns the number of jobs given back.
-- Who may call: the service role (the knowledge function). Changes knowledge_embedding_jobs.
create or replace function public.knowledge_fail_embedding_jobs(
  p_section_ids uuid[], p_error text, p_now timestamptz default now())
returns int
language plpgsql security definer
set search_path = ''
as $$
declare
  c_max_attempts constant int := 8;
  c_base constant interval := interval '30 seconds';
  c_cap constant interval := interval '6 hours';
  v_n int;
begin
  update public.knowledge_embedding_jobs j
     set locked_until = null,
         last_error = left(p_error, 500),
         next_attempt_at = p_now + least(c_cap, c_base * power(2, greatest(j.attempts - 1, 0)))
                                   * (1 + 0.2 * random()),
         dead_at = case when j.attempts >= c_max_attempts then p_now end
   where j.section_id = any (p_section_ids);
  get diagnostics v_n = row_count;
  return v_n;
end
$$;
revoke execute on function public.knowledge_fail_embedding_jobs(uuid[], text, timestamptz) from public, anon, authenticated;
grant execute on function public.knowledge_fail_embedding_jobs(uuid[], text, timestamptz) to service_role;

-- ---------------------------------------------------------------------------------------------
-- Search
-- ---------------------------------------------------------------------------------------------

-- What the bot would answer from: the organisation's best p_count sections for p_query.
--
-- Full text (always): the query's words become lexemes in each configuration the organisation's
-- sections use; conversational filler (knowledge_query_stopwords) is dropped; a word the sections
-- never use is replaced by the nearest one they do (pg_trgm similarity ≥ 0.4, words of 4+
-- characters; single letters are dropped); any lexeme may match (OR). text_score is the share of the
-- question a section covers: the summed idf of the query's lexemes it contains over the summed idf of
-- all of them, where a word no section uses weighs as much as the rarest word they do; a word found only in the title or tags counts half. 1 = every word of the question is in the section; a question about
-- something the documents never mention ("can you fix my car?") scores low however the rest matches.
-- Ties are broken by ts_rank_cd (title and heading weigh more).
--
-- Vectors (when p_embedding and p_model are given and pgvector is enabled): the p_model sections of
-- the same dimension nearest by cosine distance; similarity is the raw cosine similarity.
--
-- Both lists (top 20 each) are fused by reciprocal rank fusion (k = 50) into `fused`, the order of
-- the result. min_text_score and min_similarity are the organisation's thresholds
-- (knowledge_settings; null = the caller's defaults): the caller's gate compares text_score and
-- similarity with them.
-- Who may call: the service role (the chat bot, the knowledge function). Changes nothing.
create or replace function public.knowledge_search(
  p_org_id uuid, p_query text, p_embedding real[] default null, p_model text default null, p_count int default 5)
returns table (document_id uuid, section_id uuid, title text, heading text, url text, content text,
               text_score real, similarity real, fused real, min_text_score real, min_similarity real)
language plpgsql stable security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  c_rrf_k constant int := 50;          -- reciprocal rank fusion constant (Supabase's hybrid search uses 50)
  c_pool constant int := 20;           -- candidates taken from each list before fusion
  c_min_similarity constant real := 0.4;  -- pg_trgm similarity for a misspelt word to count as a known one
  c_max_query_chars constant int := 1000;
  -- A word found only in the document's title or tags (shared by all its sections) counts half:
  -- it says which document, not which passage answers.
  c_title_credit constant float8 := 0.5;
  v_vec jsonb := '[]'::jsonb;
  v_schema text;
begin
  if p_org_id is null or p_count is null or p_count < 1 or p_count > 50 then
    raise exception 'knowledge_search: p_org_id and p_count 1-50 are required' using errcode = '22023';
  end if;
  if coalesce(btrim(p_query), '') = '' then
    return;
  end if;
  if p_embedding is not null and p_model is not null and cardinality(p_embedding) > 0
     and public.knowledge_vectors_enabled() then
    select n.nspname into v_schema from pg_catalog.pg_extension e
      join pg_catalog.pg_namespace n on n.oid = e.extnamespace where e.extname = 'vector';
    execute format($q$
      select coalesce(jsonb_agg(jsonb_build_object('id', x.id, 'similarity', x.similarity, 'rank', x.rank)), '[]'::jsonb)
      from (
        select s.id, (1 - (s.embedding operator(%1$s.<=>) $2::%1$s.vector))::real as similarity,
               row_number() over (order by s.embedding operator(%1$s.<=>) $2::%1$s.vector, s.id) as rank
        from public.knowledge_sections s
        where s.org_id = $1 and s.embedding_model = $3 and %1$s.vector_dims(s.embedding) = $4
        order by s.embedding operator(%1$s.<=>) $2::%1$s.vector, s.id
        limit $5) x$q$, v_schema)
      into v_vec using p_org_id, p_embedding, p_model, cardinality(p_embedding), c_pool;
  end if;

  return query
  with sizes as (
    select s.config, count(*)::float8 as n from public.knowledge_sections s where s.org_id = p_org_id group by s.config
  ), filler as (
    select z.config, w.lexeme
    from sizes z
    join pg_catalog.pg_ts_config tc on tc.oid = z.config
    cross join lateral unnest(tsvector_to_array(to_tsvector(z.config, coalesce(
      (select string_agg(q.word, ' ') from public.knowledge_query_stopwords q where q.config = tc.cfgname), '')))) as w(lexeme)
  ), asked as (
    select distinct z.config, w.lexeme
    from sizes z
    cross join lateral unnest(tsvector_to_array(to_tsvector(z.config, left(p_query, c_max_query_chars)))) as w(lexeme)
    where w.lexeme !~ '[''\\]' and length(w.lexeme) > 1
      and not exists (select 1 from filler f where f.config = z.config and f.lexeme = w.lexeme)
  ), resolved as (
    select a.config, coalesce(e.lexeme, f.lexeme) as lexeme, coalesce(e.sections, f.sections, 0) as df
    from asked a
    left join public.knowledge_terms e on e.org_id = p_org_id and e.config = a.config and e.lexeme = a.lexeme
    left join lateral (
      select t.lexeme, t.sections from public.knowledge_terms t
      where e.lexeme is null and length(a.lexeme) >= 4
        and t.org_id = p_org_id and t.config = a.config
        and t.lexeme operator(extensions.%) a.lexeme
        and extensions.similarity(t.lexeme, a.lexeme) >= c_min_similarity
      order by extensions.similarity(t.lexeme, a.lexeme) desc, t.sections desc, t.lexeme
      limit 1) f on true
  ), weighted as (
    select r.config, r.lexeme, ln(1 + (z.n - greatest(r.df, 1) + 0.5) / (greatest(r.df, 1) + 0.5)) as idf
    from resolved r join sizes z on z.config = r.config
  ), queries as (
    select w.config, sum(w.idf) as total,
           string_agg(quote_literal(w.lexeme), ' | ') filter (where w.lexeme is not null) as q
    from weighted w group by w.config
  ), text_hits as (
    select s.id,
           (select sum(w.idf * c.credit) from weighted w
            join (select u.lexeme, case when u.weights && '{A,D}'::text[] then 1.0 else c_title_credit end as credit
                  from unnest(s.fts) u) c on c.lexeme = w.lexeme
            where w.config = s.config) / q.total as coverage,
           ts_rank_cd(s.fts, q.q::tsquery, 32) as rank
    from queries q
    join public.knowledge_sections s on s.org_id = p_org_id and s.config = q.config
    where q.q is not null and s.fts @@ q.q::tsquery
  ), text_ranked as (
    select t.id, t.coverage::real as text_score,
           row_number() over (order by t.coverage desc, t.rank desc, t.id) as rank
    from text_hits t
    order by t.coverage desc, t.rank desc, t.id
    limit c_pool
  ), vec as (
    select (v ->> 'id')::uuid as id, (v ->> 'similarity')::real as similarity, (v ->> 'rank')::int as rank
    from jsonb_array_elements(v_vec) v
  ), fused as (
    select coalesce(t.id, v.id) as id, t.text_score, v.similarity,
           (coalesce(1.0 / (c_rrf_k + t.rank), 0) + coalesce(1.0 / (c_rrf_k + v.rank), 0))::real as fused
    from text_ranked t full join vec v on v.id = t.id
  )
  select d.id, s.id, d.title, s.heading, d.url, s.content, coalesce(f.text_score, 0::real), f.similarity, f.fused,
         ks.min_text_score, ks.min_similarity
  from fused f
  join public.knowledge_sections s on s.id = f.id
  join public.knowledge_documents d on d.id = s.document_id
  left join public.knowledge_settings ks on ks.org_id = p_org_id
  order by f.fused desc, coalesce(f.text_score, 0) desc, f.similarity desc nulls last, s.id
  limit p_count;
end
$$;
revoke execute on function public.knowledge_search(uuid, text, real[], text, int) from public, anon, authenticated;
grant execute on function public.knowledge_search(uuid, text, real[], text, int) to service_role;

-- ---------------------------------------------------------------------------------------------
-- Maintenance and schedule
-- ---------------------------------------------------------------------------------------------

-- Deletes embedding jobs that died more than 30 days before p_now (an operator had a month to look),
-- at most c_batch_size per call. Returns rows deleted.
-- Who may call: the service role, pg_cron and run_maintenance_tasks(). Changes knowledge_embedding_jobs.
create or replace function public.cleanup_dead_embedding_jobs(p_now timestamptz default now()) returns bigint
language plpgsql security definer
set search_path = ''
as $$
declare
  c_batch_size constant int := 1000;
  v_n bigint;
begin
  if p_now is null then
    raise exception 'cleanup_dead_embedding_jobs: p_now must be given' using errcode = '22023';
  end if;
  delete from public.knowledge_embedding_jobs j
  where j.section_id in (select k.section_id from public.knowledge_embedding_jobs k
                         where k.dead_at < p_now - interval '30 days' limit c_batch_size);
  get diagnostics v_n = row_count;
  return v_n;
end
$$;
revoke execute on function public.cleanup_dead_embedding_jobs(timestamptz) from public, anon, authenticated;
grant execute on function public.cleanup_dead_embedding_jobs(timestamptz) to service_role;

insert into public.maintenance_tasks (name, position, call, analyzed_table, requires_function) values
  ('dead_embedding_jobs', 70, 'select public.cleanup_dead_embedding_jobs($1)', null, null)
on conflict (name) do update set position = excluded.position, call = excluded.call;

-- Embedding work on Supabase: pg_cron asks the knowledge function, through pg_net, to process due
-- jobs, only when there are some, and only where pg_net and Vault hold the functions URL and the
-- service role key (post_to_function() in 20261130000310_chat_views.sql, as the chat sweep).
-- Elsewhere (`npm start`) the local runtime's timer calls the same route.
-- Returns true when it asked. Who may call: pg_cron (the database owner). Changes nothing here.
create or replace function public.request_knowledge_embeddings() returns boolean
language plpgsql security definer
set search_path = ''
as $$
begin
  if not exists (select 1 from public.knowledge_embedding_jobs j
                 where j.dead_at is null and j.next_attempt_at <= now()
                   and (j.locked_until is null or j.locked_until <= now())) then
    return false;
  end if;
  return public.post_to_function('knowledge/process', 30000);
end
$$;
revoke execute on function public.request_knowledge_embeddings() from public, anon, authenticated, service_role;

select public.register_scheduled_job('switchboard-knowledge-embeddings', '* * * * *', 'select public.request_knowledge_embeddings()');
