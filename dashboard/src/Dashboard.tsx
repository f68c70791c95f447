// The signed-in dashboard: state, the live feed, keyboard shortcuts, and the four views.
import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import { ApiError, createApi } from "./api.ts";
import { accessToken, supabase } from "./auth.ts";
import { type FeedState, openFeed } from "./feed.ts";
import { customerLabel } from "./format.ts";
import { askForNotifications, canAskForNotifications, chime, notify, unlockSound } from "./notify.ts";
import type { Agent, AgentStatus, CannedReply, FeedEvent, Message, Session, TeamMember } from "./types.ts";
import { Conversation } from "./views/Conversation.tsx";
import { HelpOverlay, SHORTCUTS } from "./views/Help.tsx";
import { HistoryView } from "./views/History.tsx";
import { AllView } from "./views/All.tsx";
import { SessionList } from "./views/SessionList.tsx";
import { TeamView } from "./views/Team.tsx";

export type View = "chats" | "all" | "team" | "history";
export interface Open {
  session: Session;
  messages: Message[];
  /** Set when the session can no longer be seen (taken by another agent). */
  gone?: string;
}

function useNow(periodMs: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), periodMs);
    return () => clearInterval(t);
  }, [periodMs]);
  return now;
}

export function Dashboard({ userEmail }: { userEmail: string }) {
  const api = useMemo(() => createApi(accessToken, () => void supabase.auth.refreshSession()), []);
  const [me, setMe] = useState<Agent | null>(null);
  const [fatal, setFatal] = useState<string | null>(null);
  const [waiting, setWaiting] = useState<Session[]>([]);
  const [mine, setMine] = useState<Session[]>([]);
  const [all, setAll] = useState<Session[]>([]);
  const [team, setTeam] = useState<TeamMember[]>([]);
  const [canned, setCanned] = useState<CannedReply[]>([]);
  const [unread, setUnread] = useState<Record<string, number>>({});
  const [view, setView] = useState<View>("chats");
  const [open, setOpen] = useState<Open | null>(null);
  const [feedState, setFeedState] = useState<FeedState>("connecting");
  const [notice, setNotice] = useState<string | null>(null);
  const [help, setHelp] = useState(false);
  const [statsVersion, setStatsVersion] = useState(0);
  const [askNotify, setAskNotify] = useState(canAskForNotifications());
  const now = useNow(5000);

  const meRef = useRef<Agent | null>(null);
  const openRef = useRef<Open | null>(null);
  const mineRef = useRef<Session[]>([]);
  meRef.current = me;
  openRef.current = open;
  mineRef.current = mine;

  const fail = useCallback((error: unknown) => {
    const text = error instanceof ApiError ? `${error.message} (${error.code})` : String(error);
    setNotice(text);
  }, []);

  // Lists ----------------------------------------------------------------------------------------
  const refreshing = useRef<Promise<void> | null>(null);
  const again = useRef(false);
  const refreshLists = useCallback((): Promise<void> => {
    if (refreshing.current) {
      again.current = true;
      return refreshing.current;
    }
    const run = async () => {
      do {
        again.current = false;
        const supervisor = meRef.current?.role === "supervisor";
        const [w, m, a, t] = await Promise.all([
          api.waiting(), api.myChats(), supervisor ? api.all() : Promise.resolve(null), api.team(),
        ]);
        setWaiting(w.sessions);
        setMine(m.sessions);
        if (a) setAll(a.sessions);
        setTeam(t.agents);
      } while (again.current);
    };
    refreshing.current = run().catch(fail).finally(() => (refreshing.current = null));
    return refreshing.current;
  }, [api, fail]);

  const openSession = useCallback(async (id: string) => {
    try {
      const { session, messages } = await api.messages(id);
      setOpen({ session, messages });
      setUnread((u) => (u[id] ? { ...u, [id]: 0 } : u));
    } catch (error) {
      fail(error);
    }
  }, [api, fail]);

  const reloadOpen = useCallback(async () => {
    const current = openRef.current;
    if (!current) return;
    try {
      const { session } = await api.session(current.session.id);
      setOpen((o) => (o && o.session.id === session.id ? { ...o, session, gone: undefined } : o));
    } catch (error) {
      if (error instanceof ApiError && (error.status === 403 || error.status === 404)) {
        setOpen((o) => (o && o.session.id === current.session.id ? { ...o, gone: "Another agent took this conversation." } : o));
      } else fail(error);
    }
  }, [api, fail]);

  // Start: who am I, the lists, canned replies --------------------------------------------------
  useEffect(() => {
    let cancelled = false;
    (async () => {
      try {
        const { agent } = await api.me();
        if (cancelled) return;
        meRef.current = agent;
        setMe(agent);
        await refreshLists();
        const c = await api.canned();
        if (!cancelled) setCanned(c.canned_replies);
      } catch (error) {
        if (!cancelled) setFatal(error instanceof ApiError && error.code === "UNAUTHORIZED"
          ? "This account is not an agent of any organisation."
          : `The dashboard cannot load: ${(error as Error).message}`);
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [api, refreshLists]);

  // The live feed ---------------------------------------------------------------------------------
  useEffect(() => {
    if (!me) return;
    const onEvent = (e: FeedEvent) => {
      const current = openRef.current;
      if (e.type === "message") {
        if (current && e.conversation_id === current.session.conversation.id && e.message_id !== undefined) {
          const message: Message = { id: e.message_id, sender: e.sender ?? "customer", body: e.body ?? "", created_at: e.created_at };
          setOpen((o) => {
            if (!o || o.session.conversation.id !== e.conversation_id) return o;
            if (o.messages.some((m) => String(m.id) === String(message.id))) return o;
            return { ...o, messages: [...o.messages, message] };
          });
        } else if (e.sender === "customer" && e.session_id && mineRef.current.some((s) => s.id === e.session_id)) {
          const sid = e.session_id;
          setUnread((u) => ({ ...u, [sid]: (u[sid] ?? 0) + 1 }));
        }
        return;
      }
      void refreshLists();
      if (e.type === "session.ended" || e.type === "session.assigned") setStatsVersion((v) => v + 1);
      if (current && e.session_id === current.session.id) void reloadOpen();
      if (e.type === "session.queued") {
        chime();
        notify("A customer is waiting", "Someone asked for a person. Open the dashboard to accept.");
      }
    };
    const feed = openFeed({
      token: accessToken,
      onEvent,
      onState: setFeedState,
      onResumed: () => {
        void refreshLists();
        void reloadOpen();
      },
    });
    return () => feed.close();
  }, [me, refreshLists, reloadOpen]);

  // Actions ---------------------------------------------------------------------------------------
  const act = useCallback(async (what: () => Promise<unknown>, after?: () => void) => {
    try {
      setNotice(null);
      await what();
      after?.();
      await refreshLists();
      await reloadOpen();
    } catch (error) {
      fail(error);
    }
  }, [fail, refreshLists, reloadOpen]);

  const accept = useCallback((id: string) => act(() => api.accept(id), () => void openSession(id)), [act, api, openSession]);
  const end = useCallback((id: string) => act(() => api.end(id)), [act, api]);

  const setStatus = useCallback(async (status: AgentStatus) => {
    try {
      await api.setStatus(status);
      const { agent } = await api.me();
      setMe(agent);
    } catch (error) {
      fail(error);
    }
  }, [api, fail]);

  const sendReply = useCallback(async (text: string): Promise<boolean> => {
    const current = openRef.current;
    if (!current) return false;
    try {
      const { message } = await api.reply(current.session.id, text, crypto.randomUUID());
      setOpen((o) => {
        if (!o || o.session.id !== current.session.id) return o;
        if (o.messages.some((m) => String(m.id) === String(message.id))) return o;
        return { ...o, messages: [...o.messages, { ...message, agent_name: meRef.current?.display_name }] };
      });
      return true;
    } catch (error) {
      fail(error);
      return false;
    }
  }, [api, fail]);

  // Keyboard --------------------------------------------------------------------------------------
  const listed = useMemo(() => [...waiting, ...mine], [waiting, mine]);
  const [confirmEnd, setConfirmEnd] = useState(false);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement | null;
      const typing = !!target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT" || target.isContentEditable);
      if (e.key === "Escape") {
        if (help) setHelp(false);
        else if (typing) target?.blur();
        return;
      }
      if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
      const go = (delta: number) => {
        if (listed.length === 0) return;
        const index = open ? listed.findIndex((s) => s.id === open.session.id) : -1;
        const next = listed[(index + delta + listed.length) % listed.length];
        setView("chats");
        void openSession(next.id).then(() => document.getElementById(`session-${next.id}`)?.focus());
      };
      switch (e.key) {
        case "?": setHelp((h) => !h); break;
        case "j": go(1); break;
        case "k": go(-1); break;
        case "a":
          if (open?.session.status === "waiting") void accept(open.session.id);
          else if (waiting[0]) void accept(waiting[0].id);
          break;
        case "r": document.getElementById("reply")?.focus(); break;
        case "e": if (open?.session.status === "active") setConfirmEnd(true); break;
        case "1": setView("chats"); break;
        case "2": if (me?.role === "supervisor") setView("all"); break;
        case "3": if (me?.role === "supervisor") setView("team"); break;
        case "4": setView("history"); break;
        default: return;
      }
      e.preventDefault();
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [help, listed, open, waiting, me, accept, openSession]);

  if (fatal) {
    return (
      <main class="signin">
        <div class="card">
          <h1>Switchboard agents</h1>
          <p class="error" role="alert">{fatal}</p>
          <button type="button" onClick={() => void supabase.auth.signOut()}>Sign out</button>
        </div>
      </main>
    );
  }
  if (!me) return <p class="loading" role="status">Loading your queue…</p>;

  const supervisor = me.role === "supervisor";
  const tabs: [View, string][] = [["chats", "Chats"], ...(supervisor ? [["all", "All"], ["team", "Team"]] as [View, string][] : []), ["history", "History"]];

  return (
    <div class="shell" onClick={unlockSound}>
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <span class="brand" aria-hidden="true">Switchboard</span>
        <nav aria-label="Views">
          <ul role="list">
            {tabs.map(([id, label]) => (
              <li key={id}>
                <button type="button" class="tab" aria-current={view === id ? "page" : undefined} onClick={() => setView(id)}>
                  {label}{id === "chats" && waiting.length > 0 && <span class="count" aria-label={`${waiting.length} waiting`}>{waiting.length}</span>}
                </button>
              </li>
            ))}
          </ul>
        </nav>
        <div class="me">
          <span class={`live ${feedState}`} role="status" aria-live="polite">
            {feedState === "live" ? "Live" : feedState === "connecting" ? "Connecting…" : "Reconnecting…"}
          </span>
          <label class="visually-hidden" for="my-status">My status</label>
          <select id="my-status" value={me.status} onChange={(e) => void setStatus(e.currentTarget.value as AgentStatus)}>
            <option value="online">Online</option>
            <option value="away">Away</option>
            <option value="offline">Offline</option>
          </select>
          <button type="button" class="ghost" onClick={() => setHelp(true)} aria-label="Keyboard shortcuts (?)">?</button>
          <button type="button" class="ghost" onClick={() => void supabase.auth.signOut()} title={userEmail}>Sign out</button>
        </div>
      </header>
      {askNotify && (
        <div class="banner">
          <span>Get a notification when a customer is waiting?</span>
          <button type="button" onClick={() => void askForNotifications().then(() => setAskNotify(false))}>Allow notifications</button>
          <button type="button" class="ghost" onClick={() => setAskNotify(false)}>Not now</button>
        </div>
      )}
      <div class="notice" role="alert">{notice && <>
        <span>{notice}</span>
        <button type="button" class="ghost" onClick={() => setNotice(null)} aria-label="Dismiss">×</button>
      </>}</div>
      <main id="main" class={`main view-${view}`}>
        {view === "chats" && (
          <div class={`chats ${open ? "has-open" : ""}`}>
            <SessionList waiting={waiting} mine={mine} unread={unread} now={now} selected={open?.session.id ?? null}
              onOpen={(id) => void openSession(id)} onAccept={(id) => void accept(id)} />
            {open ? (
              <Conversation key={open.session.id} open={open} me={me} team={team} canned={canned} now={now}
                confirmEnd={confirmEnd} setConfirmEnd={setConfirmEnd}
                onBack={() => setOpen(null)}
                onAccept={() => void accept(open.session.id)}
                onEnd={() => void end(open.session.id)}
                onEscalate={() => void act(() => api.escalate(open.session.id))}
                onTransfer={(target) => void act(() => api.transfer(open.session.id, target))}
                onSend={sendReply} />
            ) : (
              <section class="empty" aria-label="Conversation">
                <h2>No conversation open</h2>
                <p class="muted">{waiting.length ? `${waiting.length} waiting: ${customerLabel(waiting[0])} first. Press a to accept.` : "Nobody is waiting. New customers appear here at once."}</p>
                <p class="muted">Press <kbd>?</kbd> for keyboard shortcuts.</p>
              </section>
            )}
          </div>
        )}
        {view === "all" && supervisor && (
          <AllView sessions={all} team={team} now={now}
            onOpen={(id) => { setView("chats"); void openSession(id); }}
            onAssign={(id, agentId) => void act(() => api.accept(id, agentId))} />
        )}
        {view === "team" && supervisor && <TeamView api={api} team={team} version={statsVersion} onError={fail} />}
        {view === "history" && <HistoryView api={api} me={me} team={team} onError={fail}
          onOpen={(id) => { setView("chats"); void openSession(id); }} />}
      </main>
      {help && <HelpOverlay shortcuts={SHORTCUTS} onClose={() => setHelp(false)} />}
    </div>
  );
}
