// Types for scripts/migrate.mjs (used from TypeScript by the test support).
export declare function migrate(
  url: string,
  options?: { bootstrap?: boolean; seed?: boolean; quiet?: boolean },
): Promise<void>;
