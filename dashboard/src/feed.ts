// The live feed: Server-Sent Events from GET agents/feed (?access_token=, since EventSource cannot
// send headers). The browser's EventSource reconnects by itself when a response ends (the server
// ends each after AGENTS_FEED_MAX_SECONDS) and sends Last-Event-ID; when it gives up (a 401 after the
// token expired, the server down) this opens a new one with a fresh token and ?last_event_id=, with
// backoff. Events are handed on once each, in order: ids ("<txid>-<id>") never go backwards, so one
// at or below the last seen is a duplicate and is dropped.
import { AGENTS_URL } from "./config.ts";
import type { FeedEvent } from "./types.ts";

export type FeedState = "connecting" | "live" | "reconnecting";

const EVENT_TYPES = [
  "session.queued", "session.assigned", "session.unassigned", "session.escalated", "session.updated", "session.ended", "message",
];

function position(id: string): [bigint, bigint] | null {
  const m = /^(\d+)-(\d+)$/.exec(id);
  return m ? [BigInt(m[1]), BigInt(m[2])] : null;
}

function after(a: string, b: string | null): boolean {
  if (!b) return true;
  const pa = position(a);
  const pb = position(b);
  if (!pa || !pb) return true;
  return pa[0] > pb[0] || (pa[0] === pb[0] && pa[1] > pb[1]);
}

export interface FeedOptions {
  token: () => Promise<string | null>;
  onEvent: (event: FeedEvent) => void;
  onState: (state: FeedState) => void;
  /** Called when the feed starts (ready) and after a reconnect that needed a new EventSource: refresh the lists. */
  onResumed?: () => void;
}

export function openFeed(o: FeedOptions): { close(): void } {
  let source: EventSource | null = null;
  let lastId: string | null = null;
  let closed = false;
  let attempt = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const handle = (e: MessageEvent<string>) => {
    const id = e.lastEventId;
    if (!after(id, lastId)) return; // already handed on (a replay after a reconnect)
    lastId = id;
    let event: FeedEvent;
    try {
      event = JSON.parse(e.data) as FeedEvent;
    } catch {
      return;
    }
    o.onEvent(event);
  };

  async function connect(resumed: boolean) {
    if (closed) return;
    const token = await o.token();
    if (closed) return;
    if (!token) return retry();
    const url = new URL(`${AGENTS_URL}/feed`);
    url.searchParams.set("access_token", token);
    if (lastId) url.searchParams.set("last_event_id", lastId);
    const es = new EventSource(url);
    source = es;
    es.addEventListener("open", () => {
      attempt = 0;
      o.onState("live");
      if (resumed) o.onResumed?.();
      resumed = false;
    });
    es.addEventListener("ready", (e) => {
      // A new client's feed starts where the server's first read is, which can be after the lists
      // were loaded: read them again now, so that nothing from in between is missing.
      const id = (e as MessageEvent<string>).lastEventId;
      if (after(id, lastId)) lastId = id;
      o.onResumed?.();
    });
    for (const type of EVENT_TYPES) es.addEventListener(type, handle as EventListener);
    es.addEventListener("error", () => {
      if (closed) return;
      if (es.readyState === EventSource.CLOSED) {
        es.close();
        retry();
      } else {
        o.onState("reconnecting"); // the browser retries by itself, sending Last-Event-ID
      }
    });
  }

  function retry() {
    o.onState("reconnecting");
    source?.close();
    source = null;
    const delay = Math.min(15_000, 500 * 2 ** attempt) * (0.75 + Math.random() * 0.5);
    attempt += 1;
    clearTimeout(timer);
    timer = setTimeout(() => void connect(true), delay);
  }

  const online = () => {
    // Back online: reconnect now rather than after the backoff or a stalled connection's timeout;
    // resuming from the last id cannot lose or repeat an event.
    clearTimeout(timer);
    attempt = 0;
    source?.close();
    source = null;
    void connect(true);
  };
  const offline = () => o.onState("reconnecting");
  addEventListener("online", online);
  addEventListener("offline", offline);

  o.onState("connecting");
  void connect(false);
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      removeEventListener("online", online);
      removeEventListener("offline", offline);
      source?.close();
    },
  };
}
