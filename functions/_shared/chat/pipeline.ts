// The conversation pipeline every chat channel feeds. A channel adapter stores the customer's
// message (store.addCustomerMessage / whatsapp_ingest: the message and its job in one statement,
// idempotent on the provider id) and then asks the pipeline to answer the conversation:
//
//   claim the oldest unanswered message (a lease, one worker per conversation)
//     → decide the turn (turn.ts: a person's conversation, buttons, flows, LLM, rules)
//     → complete: replies, outbox rows and memory in one transaction that also deletes the job
//     → deliver the outbox rows after the answer (in the background)
//
// A worker that dies anywhere before "complete" leaves the job behind; its lease runs out and the
// sweep (sweep(), called by pg_cron through pg_net on Supabase and by npm start's timer locally)
// answers it. A worker that comes back after its lease was taken over cannot complete: nothing is
// answered twice.
import type { Logger } from "../log/logger.ts";
import { describeError } from "../observability/http.ts";
import { metrics } from "../observability/index.ts";
import type { OutboxDispatcher } from "../outbox/dispatcher.ts";
import { runInBackground } from "../runtime/background.ts";
import { createConcurrencyLimit } from "../runtime/concurrency.ts";
import { normalizeButtons } from "./buttons.ts";
import type { ChatStore, OutboxTarget, StoredReply } from "./store.ts";
import type { DecideTurn } from "./turn.ts";
import type { TurnContext, TurnResult } from "./types.ts";

export interface TurnOutcome {
  messageId: number;
  context: TurnContext;
  result: TurnResult;
  replies: StoredReply[];
}

export interface PipelineOptions {
  store: ChatStore;
  decideTurn: DecideTurn;
  /** Delivers queued replies; absent when no channel of this function has a sender (web only). */
  outbox?: OutboxDispatcher | null;
  /** Where a conversation's replies are delivered: null for channels that read the history (web). */
  outboxTarget: (ctx: TurnContext) => OutboxTarget | null;
  logger: Logger;
  /** How long a claim lasts; longer than the slowest turn (the LLM deadline plus the database). */
  leaseSeconds?: number;
  /** The bot's deadline for one turn (the LLM's share of it is enforced by the LLM client). */
  turnDeadlineMs?: number;
  /** Most messages answered in one call for one conversation (a backlog is worked off in order). */
  maxTurnsPerCall?: number;
  /** Turns under way at once in this isolate; more wait for a slot. Default 64. */
  maxConcurrentTurns?: number;
  /**
   * Channels' intakes, run first by the sweep: each moves messages its channel accepted but did not
   * store in a conversation yet (a worker died in between) and returns the conversations to answer.
   */
  intakes?: Array<() => Promise<string[]>>;
}

export interface SweepReport {
  conversations: number;
  answered: number;
  failed: number;
  outbox: { claimed: number; sent: number; retrying: number; failed: number; cancelled: number } | null;
}

export function createPipeline(options: PipelineOptions) {
  const { store, decideTurn, logger } = options;
  const leaseSeconds = options.leaseSeconds ?? 60;
  const turnDeadlineMs = options.turnDeadlineMs ?? 15_000;
  const maxTurns = options.maxTurnsPerCall ?? 20;
  if (turnDeadlineMs >= leaseSeconds * 1000) {
    throw new Error("createPipeline: the lease must outlast the turn deadline");
  }
  const turns = createConcurrencyLimit(options.maxConcurrentTurns ?? 64);

  function answerNext(conversationId: string, log: Logger, requestId?: string): Promise<TurnOutcome | null> {
    // The slot is taken before the claim, so a turn waiting for a slot holds no lease.
    return turns.run(() => claimAndAnswer(conversationId, log, requestId));
  }

  async function claimAndAnswer(conversationId: string, log: Logger, requestId?: string): Promise<TurnOutcome | null> {
    const ctx = await store.claimNext(conversationId, leaseSeconds);
    if (!ctx) return null;
    const turnLog = log.child({ conversation_id: conversationId, message_id: ctx.job.message_id, attempt: ctx.job.attempts });
    const started = performance.now();
    try {
      const result = await decideTurn(ctx, { signal: AbortSignal.timeout(turnDeadlineMs) });
      const replies = result.replies.map((r) => {
        const buttons = normalizeButtons(r.buttons);
        return {
          body: r.body,
          metadata: {
            ...(r.metadata ?? {}),
            ...(buttons.length ? { buttons } : {}),
            decided_by: result.decidedBy,
            ...(result.fallbackReason ? { fallback_reason: result.fallbackReason } : {}),
          },
        };
      });
      const stored = await store.completeJob(
        ctx.job.message_id,
        ctx.job.lease_token,
        replies,
        result.memory && Object.keys(result.memory).length ? result.memory : null,
        replies.length ? options.outboxTarget(ctx) : null,
      );
      if ("error" in stored) {
        turnLog.warn("turn discarded: another worker took the message over", { reason: stored.error });
        metrics.event("chat", "lease_lost");
        return null;
      }
      const ms = Math.round(performance.now() - started);
      turnLog.info("turn", {
        decided_by: result.decidedBy,
        actions: result.actions.map((a) => a.type),
        replies: stored.replies.length,
        duration_ms: ms,
        ...(result.fallbackReason ? { fallback_reason: result.fallbackReason } : {}),
      });
      metrics.event("chat", `turn:${result.decidedBy}`);
      const ids = stored.replies.map((r) => r.outbox_id).filter((id): id is number => typeof id === "number");
      if (ids.length && options.outbox) {
        const outbox = options.outbox;
        runInBackground(() => outbox.deliver(ids, { requestId }), turnLog);
      }
      return { messageId: ctx.job.message_id, context: ctx, result, replies: stored.replies };
    } catch (error) {
      turnLog.error("turn failed: the message stays queued for the sweep", { error: describeError(error) });
      metrics.event("chat", "turn_failed");
      await store.releaseJob(ctx.job.message_id, ctx.job.lease_token, String(describeError(error).name)).catch(() => {});
      throw error;
    }
  }

  /** Answers the conversation's unanswered messages in order; returns what was answered. */
  async function answerConversation(conversationId: string, log: Logger = logger, requestId?: string): Promise<TurnOutcome[]> {
    const done: TurnOutcome[] = [];
    for (let i = 0; i < maxTurns; i++) {
      const outcome = await answerNext(conversationId, log, requestId);
      if (!outcome) break;
      done.push(outcome);
    }
    return done;
  }

  /** Answers what nobody is answering and delivers what is due. */
  async function sweep(log: Logger = logger, limit = 50): Promise<SweepReport> {
    const report: SweepReport = { conversations: 0, answered: 0, failed: 0, outbox: null };
    const fromIntakes: string[] = [];
    for (const intake of options.intakes ?? []) fromIntakes.push(...(await intake()));
    const due = [...new Set([...fromIntakes, ...(await store.dueConversations(limit))])];
    report.conversations = due.length;
    // A few conversations at a time: each turn may wait seconds on the LLM.
    const queue = [...due];
    const workers = Array.from({ length: Math.min(4, queue.length) }, async () => {
      for (let id = queue.shift(); id; id = queue.shift()) {
        try {
          report.answered += (await answerConversation(id, log)).length;
        } catch {
          report.failed += 1;
        }
      }
    });
    await Promise.all(workers);
    if (options.outbox) report.outbox = await options.outbox.deliverDue(100);
    return report;
  }

  return { answerConversation, sweep };
}

export type Pipeline = ReturnType<typeof createPipeline>;
