// Small display helpers.
import type { Session } from "./types.ts";

export function customerLabel(s: Session): string {
  return s.conversation.customer_name || s.conversation.customer_phone || "Web visitor";
}

export function waitedFor(fromIso: string, now: number): string {
  const seconds = Math.max(0, Math.round((now - Date.parse(fromIso)) / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h ${minutes % 60} min`;
}

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export function time(iso: string): string {
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function dateTime(iso: string): string {
  return new Date(iso).toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

export const PRIORITY = ["Low", "Normal", "High", "Urgent"];

export function priorityLabel(p: number): string {
  return PRIORITY[p] ?? String(p);
}

/** YYYY-MM-DD of a local date. */
export function day(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

export const ENDED_REASONS: Record<string, string> = {
  agent_ended: "ended by the agent",
  customer_ended: "ended by the customer",
  expired: "expired",
  transferred: "transferred",
  closed: "closed",
};
