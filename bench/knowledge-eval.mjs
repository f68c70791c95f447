// Knowledge-base quality, measured: every question of bench/data/knowledge-eval.json asked of the
// demo organisation's articles through the real `knowledge` function (GET knowledge/search, what
// the bot retrieves), in two modes:
//   full text   no embeddings (what `npm start` does without settings);
//   hybrid      embeddings from the local OpenAI-compatible stand-in (scripts/stand-ins/openai-server.mjs:
//               deterministic hashed bag-of-words vectors, not a semantic model), sections embedded by
//               the queue (POST knowledge/process) first.
// Baseline, measured in the same run on the same sections: Postgres's stock full-text search
// (websearch_to_tsquery, every word required, ts_rank_cd order), which has no gate of its own.
//
// Figures: recall@3 (an expected section among the first three, over answerable questions);
// answer-or-abstain accuracy (answered from an expected section when answerable, abstained when not);
// wrong answers (answered a question the articles cannot answer); median and p95 search latency.
// The database is the embedded one (PGlite, which has pgvector), in a temporary directory.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { migrate } from "../scripts/migrate.mjs";
import { startEmbeddedPostgres } from "../scripts/embedded-db.mjs";
import { startOpenAiServer } from "../scripts/stand-ins/openai-server.mjs";
import { startFunctions } from "./lib/servers.mjs";
import { quantile } from "./lib/stats.mjs";

const here = path.dirname(new URL(import.meta.url).pathname);
const evalSet = JSON.parse(await readFile(path.join(here, "data/knowledge-eval.json"), "utf8"));
const SERVICE_KEY = "bench-service-role-key-0123456789";
const port = 55000 + Math.floor(Math.random() * 2000);

const dataDir = await mkdtemp(path.join(os.tmpdir(), "sb-knowledge-bench-"));
const db = await startEmbeddedPostgres({ dataDir: path.join(dataDir, "pglite"), port });
const stops = [async () => db.stop(), async () => rm(dataDir, { recursive: true, force: true })];
const stopAll = async () => {
  for (const stop of stops.reverse()) await stop().catch(() => {});
};
process.on("SIGTERM", () => stopAll().then(() => process.exit(130)));

try {
  console.log(`database: embedded PGlite (pgvector: ${db.missingExtensions.includes("vector") ? "no" : "yes"}), migrating with the demo seed...`);
  await migrate(db.url, { bootstrap: true, seed: true });
  const sql = postgres(db.url, { max: 1, onnotice: () => {} });
  stops.push(() => sql.end({ timeout: 1 }));
  const keyOf = new Map();
  for (const r of await sql`select s.id::text, d.external_id, s.heading from public.knowledge_sections s join public.knowledge_documents d on d.id = s.document_id`) {
    keyOf.set(r.id, `${r.external_id}#${r.heading}`);
  }
  const questions = evalSet.questions;
  const answerable = questions.filter((q) => q.expect !== "abstain").length;
  console.log(`questions: ${questions.length} (${answerable} answerable, ${questions.length - answerable} not; ${keyOf.size} sections)`);

  // Baseline: stock full-text search, no gate (it answers whenever something matches).
  const baseline = [];
  for (const q of questions) {
    const rows = await sql`
      select s.id::text from public.knowledge_sections s
      where s.org_id = ${evalSet.org_id}::uuid and s.fts @@ websearch_to_tsquery(s.config, ${q.q})
      order by ts_rank_cd(s.fts, websearch_to_tsquery(s.config, ${q.q}), 32) desc limit 3`;
    baseline.push({ q, keys: rows.map((r) => keyOf.get(r.id)), confident: rows.length > 0, ms: null });
  }

  const llm = await startOpenAiServer({ apiKey: "bench-key" });
  stops.push(() => llm.close());
  const results = { "stock full text (baseline)": baseline };
  for (const mode of ["full text", "hybrid"]) {
    const env = { DATABASE_URL: db.url, SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY, LOG_LEVEL: "warn" };
    if (mode === "hybrid") Object.assign(env, { OPENAI_API_KEY: "bench-key", OPENAI_BASE_URL: llm.url, EMBEDDINGS_MODEL: "text-embedding-3-small" });
    const fn = await startFunctions(env);
    try {
      const auth = { authorization: `Bearer ${SERVICE_KEY}` };
      if (mode === "hybrid") {
        let embedded = 0;
        for (;;) {
          const r = await (await fetch(`${fn.url}/functions/v1/knowledge/process`, { method: "POST", headers: auth })).json();
          embedded += r.embedded ?? 0;
          if (!r.claimed) break;
        }
        console.log(`hybrid: ${embedded} sections embedded through the queue`);
      }
      const out = [];
      for (const q of questions) {
        const url = `${fn.url}/functions/v1/knowledge/search?org_id=${evalSet.org_id}&count=3&q=${encodeURIComponent(q.q)}`;
        const t0 = performance.now();
        const res = await fetch(url, { headers: auth });
        const body = await res.json();
        const ms = performance.now() - t0;
        if (!res.ok) throw new Error(`search failed: ${res.status} ${JSON.stringify(body)}`);
        if (mode === "hybrid" && body.mode !== "hybrid") throw new Error(`expected a hybrid search, got ${body.mode}`);
        out.push({ q, keys: body.hits.map((h) => keyOf.get(h.section_id)), confident: body.confident, ms });
      }
      results[mode] = out;
    } finally {
      await fn.stop();
    }
  }

  console.log("");
  console.log("mode                         recall@3        answer/abstain   wrong answers   wrong section   p50 ms   p95 ms");
  const rows = {};
  for (const [mode, out] of Object.entries(results)) {
    let recall = 0, correct = 0, wrong = 0, wrongSection = 0;
    const misses = [];
    for (const r of out) {
      if (r.q.expect === "abstain") {
        if (r.confident) { wrong++; misses.push(`answered (should abstain): ${r.q.q} → ${r.keys[0]}`); } else correct++;
        continue;
      }
      if (r.keys.some((k) => r.q.expect.includes(k))) recall++;
      else misses.push(`not in top 3: ${r.q.q}`);
      if (r.confident && r.q.expect.includes(r.keys[0])) correct++;
      else if (r.confident) { wrongSection++; misses.push(`answered from another section: ${r.q.q} → ${r.keys[0]}`); }
    }
    const times = out.map((r) => r.ms).filter((x) => x !== null);
    rows[mode] = { recall, correct, wrong, misses };
    const pct = (n, d) => `${n}/${d} (${((100 * n) / d).toFixed(1)}%)`;
    console.log(
      `${mode.padEnd(28)} ${pct(recall, answerable).padEnd(15)} ${pct(correct, questions.length).padEnd(16)} ${String(wrong).padEnd(15)} ${String(wrongSection).padEnd(15)} ` +
        `${times.length ? quantile(times, 0.5).toFixed(1).padEnd(8) : "-".padEnd(8)} ${times.length ? quantile(times, 0.95).toFixed(1) : "-"}`,
    );
  }
  const base = rows["stock full text (baseline)"];
  for (const mode of ["full text", "hybrid"]) {
    console.log(`\n${mode}: recall@3 ${(rows[mode].recall / Math.max(base.recall, 1)).toFixed(2)}x the baseline's; wrong answers ${rows[mode].wrong} vs ${base.wrong}`);
    for (const m of rows[mode].misses) console.log(`  ${m}`);
  }
} finally {
  await stopAll();
}
