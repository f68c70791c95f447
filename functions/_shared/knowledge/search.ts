// Retrieval over an organisation's documents, with the gate: one call to public.knowledge_search
// (full text always; hybrid when an embedder is configured and the question could be embedded in
// time), then the decision whether the bot may answer from the best section.
//
//   const kb = createKnowledgeBase({ sql, settings, embedder, logger });
//   const { hits, confident } = await kb.retrieve(orgId, "Do you service Mississauga?", { language: "en" });
//
// The gate: the best section must cover at least min_text_score of the question (full text), or
// reach min_similarity (vectors); the organisation's knowledge_settings override the defaults.
// Nothing retrieved, or nothing above either threshold: not confident, and the bot says it does not
// know and offers a person. Each hit's `score` is its confidence, max(text_score / min_text_score,
// similarity / min_similarity): comparable across calls and modes, ≥ 1 exactly when it passes.
import type { Sql } from "../db/client.ts";
import type { Logger } from "../log/logger.ts";
import type { KnowledgeBase, KnowledgeHit, KnowledgeResult } from "../chat/turn.ts";
import type { Embedder } from "./embedder.ts";
import type { KnowledgeSettings } from "./settings.ts";

export const MAX_QUERY_CHARS = 1000;

export interface SearchHit extends KnowledgeHit {
  text_score: number;
  similarity: number | null;
  fused: number;
}

export interface SearchResult extends KnowledgeResult {
  hits: SearchHit[];
  mode: "full_text" | "hybrid";
  thresholds: { min_text_score: number; min_similarity: number };
}

export interface KnowledgeSearch extends KnowledgeBase {
  /** The bot's retrieval (KnowledgeBase): three hits. */
  retrieve(orgId: string, query: string, options: { language: string; signal?: AbortSignal }): Promise<SearchResult>;
  /** What the management API's search route shows: up to `count` hits with all scores. */
  search(orgId: string, query: string, options?: { count?: number; signal?: AbortSignal }): Promise<SearchResult>;
  readonly embedder: Embedder | null;
}

interface Row {
  document_id: string;
  section_id: string;
  title: string;
  heading: string | null;
  url: string | null;
  content: string;
  text_score: number;
  similarity: number | null;
  fused: number;
  min_text_score: number | null;
  min_similarity: number | null;
}

export function createKnowledgeBase(deps: {
  sql: Sql;
  settings: KnowledgeSettings;
  embedder?: Embedder | null;
  logger?: Logger;
}): KnowledgeSearch {
  const { sql, settings, logger } = deps;
  const embedder = deps.embedder ?? null;

  // Whether the database has the embedding column (pgvector): asked once a minute at most, so a
  // database without it costs no embeddings call per question.
  let vectors: { on: boolean; at: number } | null = null;
  async function vectorsEnabled(): Promise<boolean> {
    if (vectors && performance.now() - vectors.at < 60_000) return vectors.on;
    const [row] = await sql<{ on: boolean }[]>`select public.knowledge_vectors_enabled() as on`;
    vectors = { on: row.on, at: performance.now() };
    return row.on;
  }

  async function embedQuery(orgId: string, query: string, signal?: AbortSignal): Promise<number[] | null> {
    if (!embedder || !(await vectorsEnabled())) return null;
    try {
      const [vector] = await embedder.embed([query], {
        signal,
        deadlineMs: settings.queryTimeoutMs,
        record: { orgId, purpose: "knowledge" },
      });
      return vector ?? null;
    } catch (error) {
      // A slow or failing embeddings server costs the question its vector half, not its answer.
      logger?.warn("knowledge query not embedded: full text only", { reason: (error as { code?: string })?.code ?? (error as Error)?.name });
      return null;
    }
  }

  async function search(orgId: string, query: string, options: { count?: number; signal?: AbortSignal } = {}): Promise<SearchResult> {
    const text = query.replace(/\s+/g, " ").trim().slice(0, MAX_QUERY_CHARS);
    const count = Math.min(Math.max(options.count ?? 3, 1), 50);
    const vector = text ? await embedQuery(orgId, text, options.signal) : null;
    const rows: Row[] = text
      ? await sql<Row[]>`
          select document_id::text, section_id::text, title, heading, url, content, text_score, similarity, fused,
                 min_text_score, min_similarity
          from public.knowledge_search(${orgId}::uuid, ${text}, ${vector ? `{${vector.join(",")}}` : null}::real[],
                                       ${vector ? embedder!.model : null}, ${count})`
      : [];
    const minText = rows[0]?.min_text_score ?? settings.minTextScore;
    const minSimilarity = rows[0]?.min_similarity ?? settings.minSimilarity;
    const hits: SearchHit[] = rows.map((r) => {
      const textScore = Number(r.text_score);
      const similarity = r.similarity === null ? null : Number(r.similarity);
      const score = Math.max(textScore / minText, similarity === null ? 0 : similarity / minSimilarity);
      return {
        document_id: r.document_id,
        section_id: r.section_id,
        title: r.title,
        heading: r.heading,
        url: r.url,
        content: r.content,
        score: Math.round(score * 10000) / 10000,
        text_score: Math.round(textScore * 10000) / 10000,
        similarity: similarity === null ? null : Math.round(similarity * 10000) / 10000,
        fused: Number(r.fused),
      };
    });
    return {
      hits,
      confident: hits.length > 0 && hits[0].score >= 1,
      mode: vector ? "hybrid" : "full_text",
      thresholds: { min_text_score: minText, min_similarity: minSimilarity },
    };
  }

  return {
    embedder,
    search,
    retrieve(orgId, query, options) {
      return search(orgId, query, { count: 3, signal: options.signal });
    },
  };
}
