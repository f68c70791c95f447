import { describe, expect, it } from "vitest";
import { settleBackground } from "../../functions/_shared/runtime/background.ts";
import { createBatcher } from "../../functions/_shared/runtime/batcher.ts";

describe("createBatcher", () => {
  it("writes items added together in one batch after the delay", async () => {
    const writes: number[][] = [];
    const batcher = createBatcher<number>({ write: async (items) => void writes.push(items), maxDelayMs: 10 });
    for (let i = 0; i < 5; i++) batcher.add(i);
    expect(writes).toEqual([]);
    await settleBackground();
    expect(writes).toEqual([[0, 1, 2, 3, 4]]);
  });

  it("writes a full batch at once without waiting for the delay", async () => {
    const writes: number[][] = [];
    const batcher = createBatcher<number>({ write: async (items) => void writes.push(items), maxItems: 3, maxDelayMs: 300 });
    for (let i = 0; i < 7; i++) batcher.add(i);
    expect(writes).toEqual([[0, 1, 2], [3, 4, 5]]);
    // The last, partial batch is still pending background work: settleBackground waits for it.
    const settled = settleBackground();
    let done = false;
    void settled.then(() => (done = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(done).toBe(false);
    await settled;
    expect(writes).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
  });

  it("logs a failed write and keeps accepting items", async () => {
    const errors: string[] = [];
    let fail = true;
    const written: number[] = [];
    const batcher = createBatcher<number>({
      write: async (items) => {
        if (fail) throw new Error("db down");
        written.push(...items);
      },
      maxDelayMs: 1,
      logger: { error: (m: string) => errors.push(m) } as never,
    });
    batcher.add(1);
    await settleBackground();
    fail = false;
    batcher.add(2);
    await settleBackground();
    expect(errors).toEqual(["batched write failed"]);
    expect(written).toEqual([2]);
  });
});
