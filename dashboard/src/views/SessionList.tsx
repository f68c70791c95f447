// The left column: the waiting queue (with Accept) and my active chats (with unread counts).
import { customerLabel, priorityLabel, waitedFor } from "../format.ts";
import type { Session } from "../types.ts";

interface Props {
  waiting: Session[];
  mine: Session[];
  unread: Record<string, number>;
  now: number;
  selected: string | null;
  onOpen: (id: string) => void;
  onAccept: (id: string) => void;
}

export function SessionList({ waiting, mine, unread, now, selected, onOpen, onAccept }: Props) {
  return (
    <aside class="lists" aria-label="Conversations">
      <section aria-labelledby="waiting-title">
        <h2 id="waiting-title">Waiting <span class="muted">({waiting.length})</span></h2>
        {waiting.length === 0 && <p class="muted small">Nobody is waiting.</p>}
        <ul role="list" class="sessions">
          {waiting.map((s) => (
            <li key={s.id} class={`item waiting p${s.priority}`} data-session={s.id}>
              <button type="button" id={`session-${s.id}`} class="open" aria-current={selected === s.id ? "true" : undefined} onClick={() => onOpen(s.id)}>
                <span class="who">{customerLabel(s)}</span>
                <span class="meta">
                  <span class={`badge prio-${s.priority}`}>{priorityLabel(s.priority)}</span>
                  <span class="badge">{s.conversation.channel}</span>
                  <span>waiting {waitedFor(s.queued_at, now)}</span>
                </span>
                {s.summary && <span class="summary">{s.summary}</span>}
              </button>
              <button type="button" class="primary accept" onClick={() => onAccept(s.id)} aria-label={`Accept ${customerLabel(s)}`}>Accept</button>
            </li>
          ))}
        </ul>
      </section>
      <section aria-labelledby="mine-title">
        <h2 id="mine-title">My chats <span class="muted">({mine.length})</span></h2>
        {mine.length === 0 && <p class="muted small">No active chats.</p>}
        <ul role="list" class="sessions">
          {mine.map((s) => (
            <li key={s.id} class="item" data-session={s.id}>
              <button type="button" id={`session-${s.id}`} class="open" aria-current={selected === s.id ? "true" : undefined} onClick={() => onOpen(s.id)}>
                <span class="who">{customerLabel(s)}</span>
                <span class="meta">
                  <span class="badge">{s.conversation.channel}</span>
                  {s.conversation.last_customer_message_at && <span>last message {waitedFor(s.conversation.last_customer_message_at, now)} ago</span>}
                </span>
              </button>
              {(unread[s.id] ?? 0) > 0 && <span class="unread" aria-label={`${unread[s.id]} unread`}>{unread[s.id]}</span>}
            </li>
          ))}
        </ul>
      </section>
    </aside>
  );
}
