// LOCAL SIMULATION only: the simulated agent a panel frame belongs to (`?agent=<NameID>` on the frame's
// URL: a fake agent's name, no secret). `make serve` hands out a token for that agent
// (POST /dev/api/agent-token) and answers the panel's API calls carrying it with that agent's claims, as
// API Gateway's JWT authorizer would for the agent's real token. `?tenant=<id>`: the agent signs in at
// that municipality's dev IdP (without `?agent`: its dev agent), so the claims are that IdP's. Without
// either the page's own config.json auth applies (the sign-in tests), or none (the dev agent).
import type { AgentAuth } from "./auth";

export async function simAuth(agent: string | null, tenant: string | null = null): Promise<AgentAuth | undefined> {
  if (!agent && !tenant) return undefined;
  let token: string | null = null;
  try {
    const r = await fetch("/dev/api/agent-token", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ agent: agent ?? undefined, tenant: tenant ?? undefined }),
      cache: "no-store",
      credentials: "omit",
    });
    if (r.ok) token = ((await r.json()) as { token?: string }).token ?? null;
  } catch {
    token = null;
  }
  return {
    required: false,
    token: async () => token,
    signIn: async () => false,
    forget: () => undefined,
  };
}
