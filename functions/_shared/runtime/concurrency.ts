// At most `limit` tasks at a time; the rest wait their turn in arrival order. Background work that
// follows an answer (moving messages into conversations, bot turns) goes through one of these, so a
// burst of webhooks queues its work instead of flooding the isolate's event loop and the database:
// the answers the senders are waiting for keep their share of the CPU.

export interface ConcurrencyLimit {
  run<T>(task: () => Promise<T>): Promise<T>;
  /** Tasks running and waiting now. */
  readonly active: number;
  readonly waiting: number;
}

export function createConcurrencyLimit(limit: number): ConcurrencyLimit {
  if (!Number.isInteger(limit) || limit < 1) throw new Error("createConcurrencyLimit: limit must be a positive integer");
  let active = 0;
  const queue: Array<() => void> = [];
  const release = () => {
    active -= 1;
    queue.shift()?.();
  };
  return {
    async run<T>(task: () => Promise<T>): Promise<T> {
      if (active >= limit) await new Promise<void>((resolve) => queue.push(resolve));
      active += 1;
      try {
        return await task();
      } finally {
        release();
      }
    },
    get active() {
      return active;
    },
    get waiting() {
      return queue.length;
    },
  };
}
