// The embedding worker: claims due jobs (public.knowledge_claim_embedding_jobs, FOR UPDATE SKIP
// LOCKED with a lease), embeds their sections in one request per organisation and batch, and stores
// the vectors, or gives the jobs back for a retry with backoff. Run by the knowledge function's
// process route (the sweep timer locally, pg_cron + pg_net on Supabase) and after a document is
// written (in the background, after the answer): never inside a customer's request.
import type { Sql } from "../db/client.ts";
import type { Logger } from "../log/logger.ts";
import type { Embedder } from "./embedder.ts";

export interface ProcessReport {
  claimed: number;
  embedded: number;
  failed: number;
  batches: number;
}

interface Claimed {
  section_id: string;
  org_id: string;
  attempts: number;
  input: string;
}

export interface ProcessOptions {
  /** Jobs claimed per batch (and per embeddings request at most). Default 32. */
  batchSize?: number;
  /** Batches per call, so that one call stays short. Default 8. */
  maxBatches?: number;
  /** Deadline of one embeddings request. Default 20 s. */
  deadlineMs?: number;
  signal?: AbortSignal;
}

/** A short, fixed description of a failure for the job row: our words, never the provider's text. */
function failureCode(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === "string" && /^[a-z_]{1,40}$/.test(code)) return code;
  return (error as Error)?.name === "AbortError" ? "timeout" : "error";
}

export async function processEmbeddingJobs(sql: Sql, embedder: Embedder, logger: Logger, options: ProcessOptions = {}): Promise<ProcessReport> {
  const batchSize = options.batchSize ?? 32;
  const maxBatches = options.maxBatches ?? 8;
  const report: ProcessReport = { claimed: 0, embedded: 0, failed: 0, batches: 0 };
  for (let batch = 0; batch < maxBatches; batch++) {
    if (options.signal?.aborted) break;
    const jobs = await sql<Claimed[]>`
      select section_id::text, org_id::text, attempts, input
      from public.knowledge_claim_embedding_jobs(${batchSize}, interval '2 minutes', now())`;
    if (jobs.length === 0) break;
    report.batches++;
    report.claimed += jobs.length;
    const byOrg = new Map<string, Claimed[]>();
    for (const job of jobs) byOrg.set(job.org_id, [...(byOrg.get(job.org_id) ?? []), job]);
    for (const [orgId, group] of byOrg) {
      const ids = group.map((j) => j.section_id);
      try {
        const vectors = await embedder.embed(group.map((j) => j.input), {
          signal: options.signal,
          deadlineMs: options.deadlineMs ?? 20_000,
          record: { orgId, purpose: "embedding" },
        });
        if (vectors.length !== group.length) throw Object.assign(new Error("wrong number of vectors"), { code: "bad_response" });
        const [{ stored }] = await sql<{ stored: number }[]>`
          select public.knowledge_complete_embedding_jobs(${ids}::uuid[], ${vectors.map((v) => `[${v.join(",")}]`)}::text[],
                                                          ${embedder.model}) as stored`;
        report.embedded += stored;
      } catch (error) {
        const code = failureCode(error);
        await sql`select public.knowledge_fail_embedding_jobs(${ids}::uuid[], ${code}, now())`;
        report.failed += group.length;
        logger.warn("embedding jobs failed; retried later", { org_id: orgId, jobs: group.length, reason: code });
      }
    }
    if (jobs.length < batchSize) break;
  }
  return report;
}
