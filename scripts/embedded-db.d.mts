export declare function extensionsInMigrations(dir?: string): Promise<Set<string>>;
export declare function pgliteExtensions(names: Iterable<string>): Promise<{ extensions: Record<string, any>; missing: string[] }>;
export declare function portIsFree(port: number, host: string): Promise<boolean>;
export declare function startEmbeddedPostgres(options?: {
  dataDir?: string;
  host?: string;
  port?: number;
  maxConnections?: number;
}): Promise<{ url: string; db: unknown; missingExtensions: string[]; stop(): Promise<void> }>;
