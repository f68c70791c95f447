export const DASHBOARD_DIR: string;
export const DASHBOARD_DIST: string;
export function dashboardIsStale(): Promise<boolean>;
export function buildDashboard(options?: { quiet?: boolean }): Promise<string>;
export function ensureDashboardBuilt(): Promise<{ built: boolean }>;
