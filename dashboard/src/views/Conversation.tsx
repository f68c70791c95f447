// One conversation: who and where, the bot's part, system events, agent replies with their delivery
// state, the actions (accept, transfer, escalate, end) and the reply box with canned replies.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import type { Open } from "../Dashboard.tsx";
import { customerLabel, dateTime, ENDED_REASONS, priorityLabel, time, waitedFor } from "../format.ts";
import type { Agent, CannedReply, Message, TeamMember } from "../types.ts";

interface Props {
  open: Open;
  me: Agent;
  team: TeamMember[];
  canned: CannedReply[];
  now: number;
  confirmEnd: boolean;
  setConfirmEnd: (v: boolean) => void;
  onBack: () => void;
  onAccept: () => void;
  onEnd: () => void;
  onEscalate: () => void;
  onTransfer: (target: { agent_id: string } | { skill: string }) => void;
  onSend: (text: string) => Promise<boolean>;
}

interface Line {
  key: string;
  at: string;
  kind: "message" | "event";
  message?: Message;
  text?: string;
}

const SENDER: Record<string, string> = { customer: "Customer", bot: "Assistant", agent: "Agent", system: "System" };

export function Conversation(p: Props) {
  const { session, messages } = p.open;
  const mine = session.status === "active" && session.agent_id === p.me.id;
  const lines = useMemo<Line[]>(() => {
    const out: Line[] = messages.map((m) => ({ key: `m${m.id}`, at: m.created_at, kind: "message", message: m }));
    out.push({ key: "queued", at: session.queued_at, kind: "event", text: `Handed over to a person${session.summary ? `: ${session.summary}` : ""}` });
    if (session.assigned_at) out.push({ key: "assigned", at: session.assigned_at, kind: "event", text: `${session.agent_name ?? "An agent"} took the conversation` });
    if (session.ended_at) out.push({ key: "ended", at: session.ended_at, kind: "event", text: `Chat ${ENDED_REASONS[session.ended_reason ?? ""] ?? "ended"}` });
    return out.sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || (a.kind === "event" ? -1 : 1));
  }, [messages, session]);

  const log = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    const el = log.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [lines.length]);

  const [transfer, setTransfer] = useState(false);

  return (
    <section class="conversation" aria-labelledby="conversation-title">
      <header class="conv-head">
        <button type="button" class="ghost back" onClick={p.onBack}>← Back</button>
        <div>
          <h2 id="conversation-title">{customerLabel(session)}</h2>
          <p class="meta">
            <span class="badge">{session.conversation.channel}</span>
            {session.conversation.customer_phone && <span>{session.conversation.customer_phone}</span>}
            <span class={`badge status-${session.status}`} data-testid="session-status">{session.status}</span>
            <span class={`badge prio-${session.priority}`}>{priorityLabel(session.priority)}</span>
            {session.status === "waiting" && <span>waiting {waitedFor(session.queued_at, p.now)}</span>}
            {session.agent_name && session.status === "active" && <span>with {session.agent_name}</span>}
          </p>
        </div>
        <div class="actions">
          {session.status === "waiting" && <button type="button" class="primary" onClick={p.onAccept}>Accept</button>}
          {mine && <>
            <button type="button" onClick={() => setTransfer((t) => !t)} aria-expanded={transfer}>Transfer</button>
            <button type="button" onClick={p.onEscalate}>Escalate</button>
            <button type="button" class="danger" onClick={() => p.setConfirmEnd(true)}>End chat</button>
          </>}
        </div>
      </header>
      {p.open.gone && <p class="warning" role="status">{p.open.gone}</p>}
      {transfer && mine && <TransferForm team={p.team} me={p.me} onDone={(t) => { setTransfer(false); p.onTransfer(t); }} onCancel={() => setTransfer(false)} />}
      {p.confirmEnd && mine && <ConfirmEnd onConfirm={() => { p.setConfirmEnd(false); p.onEnd(); }} onCancel={() => p.setConfirmEnd(false)} />}
      <div class="log" ref={log} role="log" aria-live="polite" aria-label="Messages" tabIndex={0}>
        <ol class="lines">
          {lines.map((l) => l.kind === "event"
            ? <li key={l.key} class="event"><span>{l.text}</span> <time dateTime={l.at}>{dateTime(l.at)}</time></li>
            : <MessageLine key={l.key} m={l.message!} />)}
        </ol>
      </div>
      {mine
        ? <ReplyBox canned={p.canned} onSend={p.onSend} />
        : <p class="muted closed-note">{session.status === "ended" ? "This chat has ended." : session.status === "waiting" ? "Accept to reply." : `${session.agent_name ?? "Another agent"} is handling this chat.`}</p>}
    </section>
  );
}

function MessageLine({ m }: { m: Message }) {
  if (m.sender === "system") return <li class="event" data-message={m.id}><span>{m.body}</span> <time dateTime={m.created_at}>{time(m.created_at)}</time></li>;
  return (
    <li class={`msg ${m.sender}`} data-message={m.id}>
      <span class="from">{m.sender === "agent" && m.agent_name ? m.agent_name : SENDER[m.sender] ?? m.sender}</span>
      <p class="body">{m.body}</p>
      <span class="when">
        <time dateTime={m.created_at}>{time(m.created_at)}</time>
        {m.sender === "agent" && m.delivery && <span class="delivery"> · {m.delivery}</span>}
      </span>
    </li>
  );
}

function ReplyBox({ canned, onSend }: { canned: CannedReply[]; onSend: (text: string) => Promise<boolean> }) {
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const [pick, setPick] = useState(0);
  const ref = useRef<HTMLTextAreaElement>(null);
  const slash = /^\/([a-z0-9_-]*)$/i.exec(text.trim());
  const matches = slash ? canned.filter((c) => c.shortcut.startsWith(slash[1].toLowerCase())).slice(0, 6) : [];

  useEffect(() => setPick(0), [text]);

  function insert(c: CannedReply) {
    setText(c.text);
    ref.current?.focus();
  }

  async function send() {
    const body = text.trim();
    if (!body || busy) return;
    setBusy(true);
    const ok = await onSend(body);
    setBusy(false);
    if (ok) setText("");
    ref.current?.focus();
  }

  function onKeyDown(e: KeyboardEvent) {
    if (matches.length) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        setPick((i) => (i + (e.key === "ArrowDown" ? 1 : matches.length - 1)) % matches.length);
        return;
      }
      if (e.key === "Tab" || (e.key === "Enter" && !e.shiftKey)) {
        e.preventDefault();
        insert(matches[Math.min(pick, matches.length - 1)]);
        return;
      }
    }
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      void send();
    }
  }

  return (
    <form class="reply" onSubmit={(e) => { e.preventDefault(); void send(); }}>
      <label for="reply" class="visually-hidden">Reply to the customer</label>
      {matches.length > 0 && (
        <ul class="canned" role="listbox" id="canned-list" aria-label="Canned replies">
          {matches.map((c, i) => (
            <li key={c.shortcut} role="option" id={`canned-${c.shortcut}`} aria-selected={i === pick} onMouseDown={(e) => { e.preventDefault(); insert(c); }}>
              <strong>/{c.shortcut}</strong> {c.text}
            </li>
          ))}
        </ul>
      )}
      <textarea id="reply" ref={ref} rows={2} value={text} placeholder="Reply… (Enter sends, Shift+Enter new line, / for canned replies)"
        aria-controls={matches.length ? "canned-list" : undefined}
        aria-activedescendant={matches.length ? `canned-${matches[Math.min(pick, matches.length - 1)].shortcut}` : undefined}
        onInput={(e) => setText(e.currentTarget.value)} onKeyDown={onKeyDown} maxLength={4000} />
      <button type="submit" class="primary" disabled={busy || !text.trim()}>Send</button>
    </form>
  );
}

function TransferForm({ team, me, onDone, onCancel }: { team: TeamMember[]; me: Agent; onDone: (t: { agent_id: string } | { skill: string }) => void; onCancel: () => void }) {
  const others = team.filter((a) => a.id !== me.id);
  const skills = [...new Set(team.flatMap((a) => a.skills))].sort();
  const [target, setTarget] = useState(others[0] ? `agent:${others[0].id}` : skills[0] ? `skill:${skills[0]}` : "");
  const first = useRef<HTMLSelectElement>(null);
  useEffect(() => first.current?.focus(), []);
  return (
    <form class="inline-form" onSubmit={(e) => {
      e.preventDefault();
      if (!target) return;
      const [kind, value] = [target.slice(0, target.indexOf(":")), target.slice(target.indexOf(":") + 1)];
      onDone(kind === "agent" ? { agent_id: value } : { skill: value });
    }} onKeyDown={(e) => e.key === "Escape" && onCancel()}>
      <label for="transfer-to">Transfer to</label>
      <select id="transfer-to" ref={first} value={target} onChange={(e) => setTarget(e.currentTarget.value)}>
        <optgroup label="Agent">
          {others.map((a) => <option key={a.id} value={`agent:${a.id}`}>{a.display_name} ({a.status}, {a.active_sessions}/{a.max_concurrent})</option>)}
        </optgroup>
        <optgroup label="Skill (queue)">
          {skills.map((s) => <option key={s} value={`skill:${s}`}>{s}</option>)}
        </optgroup>
      </select>
      <button type="submit" class="primary">Transfer</button>
      <button type="button" class="ghost" onClick={onCancel}>Cancel</button>
    </form>
  );
}

function ConfirmEnd({ onConfirm, onCancel }: { onConfirm: () => void; onCancel: () => void }) {
  const ref = useRef<HTMLButtonElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <div class="inline-form" role="alertdialog" aria-labelledby="end-q" onKeyDown={(e) => e.key === "Escape" && onCancel()}>
      <span id="end-q">End this chat? The assistant answers the customer again.</span>
      <button type="button" class="danger" ref={ref} onClick={onConfirm}>End chat</button>
      <button type="button" class="ghost" onClick={onCancel}>Cancel</button>
    </div>
  );
}
