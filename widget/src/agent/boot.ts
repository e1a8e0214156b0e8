import { loadConfig, parseAgentConfig, AgentConfig } from "../shared/config";
import { AgentAuth, handleSignInCallback, noAuth, OidcAuth } from "./auth";
import { AgentPanel } from "./panel";

/** Starts the panel; resolves to null in the sign-in popup's callback page (no panel there). */
export async function bootPanel(authOverride?: AgentAuth): Promise<{ panel: AgentPanel; config: AgentConfig }> {
  if (handleSignInCallback()) return new Promise(() => undefined);
  const root = document.getElementById("panel");
  if (!root) throw new Error("no #panel element");
  let config: AgentConfig;
  try {
    config = parseAgentConfig(await loadConfig());
  } catch {
    config = parseAgentConfig({});
    root.dataset.configError = "true";
  }
  const auth: AgentAuth = authOverride ?? (config.auth.mode === "oidc" ? new OidcAuth(config.auth) : noAuth);
  document.documentElement.lang = config.language;
  return { panel: new AgentPanel(root, config, auth), config };
}
