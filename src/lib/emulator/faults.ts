/** Fault injection: rules matched per route and method, each with an optional hit budget. */
import type { Fault, FaultRule } from "./types.js";

interface ActiveRule {
  rule: FaultRule;
  remaining: number;
}

export function routeMatches(route: string, path: string): boolean {
  if (route.endsWith("*")) return path.startsWith(route.slice(0, -1));
  return route === path;
}

export class FaultList {
  private rules: ActiveRule[] = [];

  add(rule: FaultRule): () => void {
    const active: ActiveRule = { rule, remaining: rule.times ?? Number.POSITIVE_INFINITY };
    this.rules.push(active);
    return () => {
      this.rules = this.rules.filter((r) => r !== active);
    };
  }

  clear(): void {
    this.rules = [];
  }

  /** The first rule matching this request, consuming one of its hits. */
  take(method: string, path: string): Fault | undefined {
    for (const active of this.rules) {
      const { rule } = active;
      if (rule.method && rule.method.toUpperCase() !== method) continue;
      if (!routeMatches(rule.route, path)) continue;
      active.remaining--;
      if (active.remaining <= 0) this.rules = this.rules.filter((r) => r !== active);
      return rule.fault;
    }
    return undefined;
  }
}

/** The body of the "html" fault: what a reverse proxy answers when the app behind it is down. */
export const PROXY_ERROR_PAGE = `<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx</center>
</body>
</html>
`;

/** The body of the "malformed-json" fault: a JSON document cut short. */
export const TRUNCATED_JSON = '{"success": true, "status": "rendering", "renderId": "rnd_';

export const STATUS_FAULT_MESSAGES: Record<number, string> = {
  500: "Internal server error",
  502: "Bad gateway",
  503: "Service temporarily unavailable",
};
