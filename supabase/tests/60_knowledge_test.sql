-- Knowledge base: sectioning by heading, re-ingestion, the vocabulary, the search gate's inputs, the
-- embedding queue's claim and backoff, and RLS between organisations.
begin;
set local search_path = public, extensions;
select plan(16);

insert into public.orgs (id, name) values
  ('00000000-0000-4000-8000-00000000c001', 'Kb One'), ('00000000-0000-4000-8000-00000000c002', 'Kb Two');
insert into auth.users (id) values ('00000000-0000-4000-8000-00000000c101'), ('00000000-0000-4000-8000-00000000c102');
insert into public.org_members (org_id, user_id, role) values
  ('00000000-0000-4000-8000-00000000c001', '00000000-0000-4000-8000-00000000c101', 'admin'),
  ('00000000-0000-4000-8000-00000000c002', '00000000-0000-4000-8000-00000000c102', 'agent');

-- Sectioning -------------------------------------------------------------------------------------
select is((select count(*)::int from public.knowledge_split(E'intro\n# A\ntext a\n```\n# not a heading\n```\n## B\n\n## C\ntext c', 'markdown', 1200)),
  3, 'splits by heading, keeps fenced code, drops empty sections');
select is((select array_agg(heading order by ordinal) from public.knowledge_split(E'intro\n# A\ntext a\n## C #\ntext c', 'markdown', 1200)),
  array[null, 'A', 'C'], 'keeps each section''s heading (closing hashes dropped)');
select ok((select bool_and(length(content) <= 100) and count(*) > 1 and max(parts) = count(*)
           from public.knowledge_split(repeat('A sentence of some words. ', 20), 'text', 100)),
  'cuts a long section into bounded parts');

insert into public.knowledge_documents (id, org_id, title, body, tags) values
  ('00000000-0000-4000-8000-00000000c201', '00000000-0000-4000-8000-00000000c001', 'Area',
   E'# Where\nWe serve Mississauga and Brampton.\n# Hours\nOpen on Saturdays.', '{area}');
select is((select count(*)::int from public.knowledge_sections where document_id = '00000000-0000-4000-8000-00000000c201'),
  2, 'a new document is sectioned by its trigger');
select is((select sections from public.knowledge_terms where org_id = '00000000-0000-4000-8000-00000000c001' and lexeme = 'mississauga'),
  1, 'the vocabulary counts the sections using a word');

create temporary table kept as select id from public.knowledge_sections where heading = 'Where';
update public.knowledge_documents set body = E'# Where\nWe serve Mississauga and Brampton.\n# Hours\nOpen on Sundays.'
 where id = '00000000-0000-4000-8000-00000000c201';
select ok(exists (select 1 from public.knowledge_sections s join kept k using (id)), 'an unchanged section keeps its row');
select is((select count(*)::int from public.knowledge_terms where org_id = '00000000-0000-4000-8000-00000000c001' and lexeme = 'saturday'),
  0, 'words of a replaced section leave the vocabulary');

-- Search ----------------------------------------------------------------------------------------
select is((select heading from public.knowledge_search('00000000-0000-4000-8000-00000000c001', 'do you serve misisauga?') limit 1),
  'Where', 'a misspelt word finds the section that uses the right one');
select ok((select text_score from public.knowledge_search('00000000-0000-4000-8000-00000000c001', 'serve Mississauga?') limit 1) = 1,
  'a question fully covered scores 1');
select ok(coalesce((select max(text_score) from public.knowledge_search('00000000-0000-4000-8000-00000000c001', 'can you fix my car in Brampton')), 0) < 0.65,
  'a question about something the documents never mention scores below the default gate');
select is((select count(*)::int from public.knowledge_search('00000000-0000-4000-8000-00000000c002', 'Mississauga')),
  0, 'search stays inside the organisation');

-- Embedding queue (where pgvector is enabled there are jobs; the claim works either way) ----------
insert into public.knowledge_embedding_jobs (section_id, org_id)
select id, org_id from public.knowledge_sections where org_id = '00000000-0000-4000-8000-00000000c001'
on conflict do nothing;
select is((select count(*)::int from public.knowledge_claim_embedding_jobs(10, interval '2 minutes', now())), 2,
  'claims the due jobs with their input');
select is((select count(*)::int from public.knowledge_claim_embedding_jobs(10, interval '2 minutes', now())), 0,
  'a claimed job is not claimed again during its lease');
select public.knowledge_fail_embedding_jobs(array(select section_id from public.knowledge_embedding_jobs), 'timeout', now());
select ok((select bool_and(next_attempt_at > now() + interval '29 seconds' and locked_until is null and last_error = 'timeout')
           from public.knowledge_embedding_jobs), 'a failed job is retried later with backoff');

-- RLS, as the users ---------------------------------------------------------------------------------
set local role authenticated;
select set_config('request.jwt.claims', '{"sub": "00000000-0000-4000-8000-00000000c102", "role": "authenticated"}', true);
select is((select count(*)::int from public.knowledge_documents), 0, 'another organisation''s member sees none of its documents');
select set_config('request.jwt.claims', '{"sub": "00000000-0000-4000-8000-00000000c101", "role": "authenticated"}', true);
select is((select count(*)::int from public.knowledge_sections), 2, 'a member sees the sections of their organisation');
reset role;

select * from finish();
rollback;
