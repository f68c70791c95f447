// Loads every npm package deno.json maps, under the Deno running this file, and makes one small real
// call into each package the functions use, offline: a package that resolves but fails at load time
// or at its first call (a missing Node API, a newer syntax, a global this Deno lacks) fails here
// rather than in production. scripts/check-deno.mjs runs it; scripts/deno-hosted.mjs runs that under
// the Deno line of Supabase's hosted runtime too.
//
//   deno run --no-lock --config=deno.json --allow-net=127.0.0.1 --allow-env --allow-read --allow-sys \
//     scripts/deno-npm-smoke.ts
//
// Prints one line per package ("ok <name>: <what was checked>" or "FAIL <name>: <error>") and exits 1
// if any failed. A name in deno.json without a call below is still loaded.

type Check = (module: Record<string, unknown>) => Promise<string> | string;

function expect(condition: unknown, what: string): void {
  if (!condition) throw new Error(`unexpected result: ${what}`);
}

// deno-lint-ignore no-explicit-any
type Any = any;

const CHECKS: Record<string, Check> = {
  postgres(m) {
    const postgres = m.default as Any;
    const sql = postgres("postgres://smoke@127.0.0.1:9/none", { max: 1, prepare: false, connect_timeout: 1 });
    expect(typeof sql.begin === "function", "postgres() returns a client with begin()");
    void sql.end({ timeout: 0 });
    return "client built (queries run in the end-to-end suites)";
  },
  zod(m) {
    const { z } = m as Any;
    const schema = z.object({ n: z.coerce.number().int().min(1) });
    expect(schema.parse({ n: "3" }).n === 3, "coerced parse");
    expect(!schema.safeParse({ n: 0 }).success, "a rejected value");
    return "parse and safeParse";
  },
  "libphonenumber-js"(m) {
    const parsed = (m as Any).parsePhoneNumberFromString("(416) 555-0199", "CA");
    expect(parsed?.number === "+14165550199", "national number to E.164");
    return `parsed ${parsed.number}`;
  },
  ioredis(m) {
    const { Redis } = m as Any;
    const client = new Redis({ host: "127.0.0.1", port: 9, lazyConnect: true, maxRetriesPerRequest: 0 });
    expect(client.status === "wait", "a lazy client waits");
    client.disconnect();
    return "lazy client built (commands run in the security suites)";
  },
  async cockatiel(m) {
    const { retry, handleAll, ConstantBackoff, timeout, TimeoutStrategy, wrap } = m as Any;
    let attempts = 0;
    const policy = wrap(
      retry(handleAll, { maxAttempts: 2, backoff: new ConstantBackoff(1) }),
      timeout(1000, TimeoutStrategy.Aggressive),
    );
    const value = await policy.execute(() => {
      attempts += 1;
      if (attempts < 2) throw new Error("first attempt fails");
      return "second";
    });
    expect(value === "second" && attempts === 2, "retry then success");
    return "retry + timeout policy";
  },
  "ipaddr.js"(m) {
    const ipaddr = m.default as Any;
    const address = ipaddr.process("::ffff:10.1.2.3");
    expect(address.kind() === "ipv4" && address.range() === "private", "IPv4-mapped address");
    return `${address.toString()} is ${address.range()}`;
  },
  async openai(m) {
    // A local Chat Completions endpoint: one answer with a tool call, one streamed answer.
    const encoder = new TextEncoder();
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      const body = await req.json();
      if (body.stream) {
        const chunk = (delta: object) =>
          `data: ${JSON.stringify({
            id: "c2",
            object: "chat.completion.chunk",
            created: 0,
            model: body.model,
            choices: [{ index: 0, delta, finish_reason: null }],
          })}\n\n`;
        const parts = [chunk({ role: "assistant", content: "Hel" }), chunk({ content: "lo" }), "data: [DONE]\n\n"];
        return new Response(
          new ReadableStream({
            start(controller) {
              for (const part of parts) controller.enqueue(encoder.encode(part));
              controller.close();
            },
          }),
          { headers: { "content-type": "text/event-stream" } },
        );
      }
      return Response.json({
        id: "c1",
        object: "chat.completion",
        created: 0,
        model: body.model,
        choices: [{
          index: 0,
          finish_reason: "tool_calls",
          message: {
            role: "assistant",
            content: null,
            tool_calls: [{ id: "t1", type: "function", function: { name: "request_human", arguments: "{}" } }],
          },
        }],
        usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      });
    });
    try {
      const OpenAI = m.default as Any;
      const client = new OpenAI({ apiKey: "smoke", baseURL: `http://127.0.0.1:${server.addr.port}/v1`, maxRetries: 0 });
      const messages = [{ role: "user", content: "hi" }];
      const answer = await client.chat.completions.create({ model: "smoke", messages });
      expect(answer.choices[0].message.tool_calls?.[0]?.function?.name === "request_human", "a tool call");
      const stream = await client.chat.completions.create({ model: "smoke", messages, stream: true });
      let text = "";
      for await (const part of stream) text += part.choices[0]?.delta?.content ?? "";
      expect(text === "Hello", "the streamed text");
      return "chat completion with a tool call, and a streamed one, over local HTTP";
    } finally {
      await server.shutdown();
    }
  },
  "chrono-node"(m) {
    const chrono = m as Any;
    const reference = new Date("2026-03-07T23:50:00Z");
    const when = chrono.parseDate("tomorrow at 2pm", { instant: reference, timezone: 0 }, { forwardDate: true });
    expect(when?.toISOString() === "2026-03-08T14:00:00.000Z", `"tomorrow at 2pm" (got ${when?.toISOString()})`);
    return `"tomorrow at 2pm" → ${when.toISOString()}`;
  },
  "temporal-polyfill"(m) {
    const { Temporal } = m as Any;
    // 01:30 + 1 h on the night New York springs forward is 03:30 local time.
    const later = Temporal.ZonedDateTime.from("2026-03-08T01:30[America/New_York]").add({ hours: 1 });
    expect(later.hour === 3 && later.offset === "-04:00", `DST-crossing addition (got ${later.toString()})`);
    return `${later.toString()}`;
  },
  async jose(m) {
    const { SignJWT, jwtVerify } = m as Any;
    const key = new TextEncoder().encode("a-smoke-test-secret-of-32-bytes!");
    const token = await new SignJWT({ role: "agent" }).setProtectedHeader({ alg: "HS256" }).setExpirationTime("1m")
      .sign(key);
    const { payload } = await jwtVerify(token, key);
    expect(payload.role === "agent", "the verified claim");
    return "HS256 sign and verify";
  },
};

const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
const names = Object.keys(config.imports ?? {});
let failed = 0;
for (const name of names) {
  try {
    const module = await import(name);
    const check = CHECKS[name];
    const what = check ? await check(module) : "loaded (no call defined)";
    console.log(`ok ${name}: ${what}`);
  } catch (error) {
    failed += 1;
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    console.log(`FAIL ${name}: ${message.split("\n").slice(0, 3).join(" | ")}`);
  }
}
if (failed) Deno.exit(1);
