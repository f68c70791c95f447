// Delivers alert notices: claims the due ones in Postgres (public.alert_claim_notices: a lease,
// FOR UPDATE SKIP LOCKED, so two runs never hold the same notice), POSTs each to its destination
// signed with the Standard Webhooks scheme, and records the outcome (alert_complete_notice: sent,
// retried later with backoff, or failed). Each destination gets its notices in order, one at a
// time; destinations are served side by side.
//
// What a receiver gets:
//   POST <destination url>
//   content-type: application/json
//   webhook-id: alert_<notice id>          the same on every attempt: the receiver's idempotency key
//   webhook-timestamp: <unix seconds>      of this attempt
//   webhook-signature: v1,<base64>         HMAC-SHA256 of `${id}.${timestamp}.${body}`, key whsec_…
//   {"type": "alert.firing" | "alert.resolved", "timestamp": …, "data": {…incident…}, "text": "[FIRING] …"}
// The "text" field makes a Slack or Microsoft Teams incoming webhook show the notice as it is.
//
// Retries: within a run, the outbound policy retries network errors, timeouts, 429 and 5xx with
// exponential backoff (3 attempts by default) behind a circuit breaker per destination; a notice
// still undelivered goes back to the queue with a longer backoff (30 s doubling to 15 min, 12
// attempts in all). A 2xx answer is delivery; a 410 (Gone) or a refused URL gives up at once; any
// other answer is retried later. Only a deliverer that dies between a receiver's 2xx and recording
// it can cause a second delivery (after the lease); the unchanged webhook-id lets a receiver drop it.
import type { Sql } from "../db/client.ts";
import { AppError } from "../http/errors.ts";
import type { Logger } from "../log/logger.ts";
import { describeError } from "../observability/http.ts";
import { metrics } from "../observability/index.ts";
import {
  BrokenCircuitError,
  createOutboundPolicy,
  type OutboundPolicy,
  RetryableHttpError,
  TaskCancelledError,
} from "../resilience/policy.ts";
import { signStandardWebhook } from "../signatures/standard-webhooks.ts";
import { VERSION } from "../version.ts";
import { checkOrgDestinationUrl } from "./destination-url.ts";

export interface ClaimedNotice {
  id: number;
  attempt: number;
  url: string;
  secret: string;
  org_scoped: boolean;
  destination_id: string;
  transition: "firing" | "resolved";
  incident_id: number;
  payload: Record<string, unknown>;
}

export interface DeliveryOptions {
  sql: Sql;
  logger: Logger;
  /** Lets organisations' destinations be http or private addresses (development and tests only). */
  allowPrivateUrls?: boolean;
  /** Limit for one HTTP attempt. Default 5000 ms. */
  attemptTimeoutMs?: number;
  /** HTTP attempts per notice within one run (the policy's retries). Default 3. */
  attemptsPerRun?: number;
  /** Notices claimed per run. Default 20. */
  batchSize?: number;
  /** How long a claim holds a notice; the run gives up on a notice well before. Default 60 s. */
  leaseSeconds?: number;
}

export interface DeliveryRun {
  claimed: number;
  sent: number;
  retrying: number;
  failed: number;
  /** Notices whose lease ran out before the outcome could be recorded (another run has them). */
  lost: number;
}

interface Outcome {
  ok: boolean;
  error?: string;
  retryAfterSeconds?: number | null;
  giveUp?: boolean;
}

export interface NoticeDeliverer {
  /** Claims the due notices and delivers them; resolves when every claimed one has an outcome. */
  run(options?: { requestId?: string; logger?: Logger }): Promise<DeliveryRun>;
}

export function createNoticeDeliverer(options: DeliveryOptions): NoticeDeliverer {
  if (!options.sql) throw new Error("createNoticeDeliverer: sql is required");
  const attemptTimeoutMs = options.attemptTimeoutMs ?? 5000;
  const attemptsPerRun = options.attemptsPerRun ?? 3;
  const batchSize = options.batchSize ?? 20;
  const leaseSeconds = options.leaseSeconds ?? 60;
  if (!(attemptTimeoutMs >= 100) || !(attemptsPerRun >= 1) || !(batchSize >= 1)) {
    throw new Error("createNoticeDeliverer: attemptTimeoutMs >= 100, attemptsPerRun >= 1, batchSize >= 1");
  }
  // Every attempt and backoff of a notice must end inside its lease, or another run could claim
  // it while this one still might deliver it.
  const worstCaseMs = attemptsPerRun * (attemptTimeoutMs + 2000);
  if (worstCaseMs >= (leaseSeconds - 10) * 1000) {
    throw new Error("createNoticeDeliverer: attempts and their timeouts must fit well inside the lease");
  }
  const { sql } = options;
  const policies = new Map<string, OutboundPolicy>();

  function policyFor(destinationId: string): OutboundPolicy {
    let policy = policies.get(destinationId);
    if (!policy) {
      policy = createOutboundPolicy({
        // One breaker per destination: a receiver that is down does not hold up the others. The
        // alert rule breaker_open leaves these out (their failures are on the notices).
        name: `alert-webhook:${destinationId.slice(0, 8)}`,
        timeoutMs: attemptTimeoutMs,
        maxAttempts: attemptsPerRun,
        initialDelayMs: 200,
        maxDelayMs: 2000,
        breakerThreshold: 5,
        halfOpenAfterMs: 30_000,
        logger: options.logger,
      });
      policies.set(destinationId, policy);
    }
    return policy;
  }

  async function send(notice: ClaimedNotice, requestId: string | undefined, signal: AbortSignal): Promise<Outcome> {
    if (notice.org_scoped && !options.allowPrivateUrls) {
      const problem = checkOrgDestinationUrl(notice.url);
      if (problem) return { ok: false, error: `url_${problem}`, giveUp: true };
    }
    const body = JSON.stringify(notice.payload);
    const webhookId = `alert_${notice.id}`;
    const timestamp = Math.floor(Date.now() / 1000);
    let signature: string;
    try {
      signature = await signStandardWebhook(notice.secret, webhookId, timestamp, body);
    } catch {
      return { ok: false, error: "secret_unusable", giveUp: true };
    }
    try {
      const res = await policyFor(notice.destination_id).fetch(
        notice.url,
        {
          method: "POST",
          body,
          redirect: "manual",
          headers: {
            "content-type": "application/json",
            "user-agent": `Switchboard-Alerts/${VERSION}`,
            "webhook-id": webhookId,
            "webhook-timestamp": String(timestamp),
            "webhook-signature": signature,
          },
        },
        { signal, requestId, maxResponseBytes: 64 * 1024 },
      );
      if (res.status >= 200 && res.status < 300) return { ok: true };
      return { ok: false, error: `http_${res.status}`, giveUp: res.status === 410 };
    } catch (error) {
      if (error instanceof RetryableHttpError) {
        return { ok: false, error: `http_${error.status}`, retryAfterSeconds: error.retryAfterSeconds };
      }
      if (error instanceof BrokenCircuitError) return { ok: false, error: "circuit_open" };
      if (error instanceof TaskCancelledError) return { ok: false, error: "timeout" };
      if (error instanceof AppError) return { ok: false, error: error.code.toLowerCase() };
      if (error instanceof TypeError) return { ok: false, error: "network" };
      if (signal.aborted) return { ok: false, error: "run_deadline" };
      return { ok: false, error: "error" };
    }
  }

  return {
    async run(runOptions = {}) {
      const logger = runOptions.logger ?? options.logger;
      const [row] = await sql<{ notices: ClaimedNotice[] }[]>`
        select public.alert_claim_notices(${batchSize}, ${leaseSeconds}) as notices`;
      const notices = row.notices;
      const result: DeliveryRun = { claimed: notices.length, sent: 0, retrying: 0, failed: 0, lost: 0 };
      if (notices.length === 0) return result;
      // Give up on a notice 10 s before its lease ends, whatever the policy is doing.
      const signal = AbortSignal.timeout((leaseSeconds - 10) * 1000);
      const byDestination = new Map<string, ClaimedNotice[]>();
      for (const n of notices) {
        const list = byDestination.get(n.destination_id) ?? [];
        list.push(n);
        byDestination.set(n.destination_id, list);
      }
      await Promise.all([...byDestination.values()].map(async (list) => {
        for (const notice of list.sort((a, b) => a.id - b.id)) {
          const outcome = await send(notice, runOptions.requestId, signal);
          let status: string | null = null;
          try {
            const [done] = await sql<{ status: string | null }[]>`
              select public.alert_complete_notice(${notice.id}, ${notice.attempt}, ${outcome.ok},
                ${outcome.error ?? null}, ${outcome.retryAfterSeconds ?? null}, ${outcome.giveUp ?? false}) as status`;
            status = done.status;
          } catch (error) {
            // The outcome could not be recorded: the lease will run out and the notice be tried
            // again (a receiver that got it sees the same webhook-id twice).
            logger.error("alert notice outcome not recorded", { notice_id: notice.id, error: describeError(error) });
          }
          const fields = {
            notice_id: notice.id,
            incident_id: notice.incident_id,
            transition: notice.transition,
            attempt: notice.attempt,
            ...(outcome.error ? { error: outcome.error } : {}),
          };
          if (status === "sent") {
            result.sent++;
            metrics.alertNotice(notice.transition, "sent");
            logger.info("alert notice delivered", fields);
          } else if (status === "pending") {
            result.retrying++;
            metrics.alertNotice(notice.transition, "retry");
            logger.warn("alert notice not delivered; will retry", fields);
          } else if (status === "failed") {
            result.failed++;
            metrics.alertNotice(notice.transition, "failed");
            logger.error("alert notice given up", fields);
          } else {
            result.lost++;
          }
        }
      }));
      return result;
    },
  };
}
