// Collects items written after the answer (log rows) and writes them in one statement per batch, so
// a busy webhook makes one insert per batch instead of one per request. Each item is registered as
// background work until its batch is written, so on Supabase the isolate is kept alive
// (EdgeRuntime.waitUntil) until then and nothing accepted is dropped on shutdown.
import type { Logger } from "../log/logger.ts";
import { runInBackground } from "./background.ts";

export interface BatcherOptions<T> {
  write: (items: T[]) => Promise<void>;
  /** A batch is written as soon as it holds this many items... */
  maxItems?: number;
  /** ...or this long after its first item arrived. */
  maxDelayMs?: number;
  logger?: Logger;
}

export interface Batcher<T> {
  add(item: T): void;
}

interface Batch<T> {
  items: T[];
  done: Promise<void>;
  release: () => void;
  timer?: ReturnType<typeof setTimeout>;
}

export function createBatcher<T>(options: BatcherOptions<T>): Batcher<T> {
  const maxItems = options.maxItems ?? 200;
  const maxDelayMs = options.maxDelayMs ?? 50;
  if (maxItems < 1 || maxDelayMs < 0) throw new Error("createBatcher: maxItems must be ≥ 1 and maxDelayMs ≥ 0");
  let current: Batch<T> | null = null;

  function open(): Batch<T> {
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    const batch: Batch<T> = { items: [], done, release };
    batch.timer = setTimeout(() => flush(batch), maxDelayMs);
    return batch;
  }

  function flush(batch: Batch<T>) {
    if (current === batch) current = null;
    clearTimeout(batch.timer);
    options
      .write(batch.items)
      .catch((error) => options.logger?.error("batched write failed", { error, items: batch.items.length }))
      .finally(batch.release);
  }

  return {
    add(item) {
      current ??= open();
      const batch = current;
      batch.items.push(item);
      runInBackground(() => batch.done, options.logger);
      if (batch.items.length >= maxItems) flush(batch);
    },
  };
}
