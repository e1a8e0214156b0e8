import { loadConfig, parseAgentConfig, AgentConfig } from "../shared/config";
import { noToken, TokenProvider } from "../shared/api";
import { AgentPanel } from "./panel";

export async function bootPanel(): Promise<{ panel: AgentPanel; config: AgentConfig }> {
  const root = document.getElementById("panel");
  if (!root) throw new Error("no #panel element");
  let config: AgentConfig;
  try {
    config = parseAgentConfig(await loadConfig());
  } catch {
    config = parseAgentConfig({});
    root.dataset.configError = "true";
  }
  // Agent authentication: with auth.mode "bearer" the deployment provides the token provider
  // (see docs/widget.md); tokens stay in memory only.
  const token: TokenProvider = config.auth.mode === "bearer" ? bearerFromHost() : noToken;
  document.documentElement.lang = config.language;
  return { panel: new AgentPanel(root, config, token), config };
}

/** Placeholder hook for a deployment's sign-in (e.g. Cognito PKCE); returns no token until wired. */
function bearerFromHost(): TokenProvider {
  return async () => null;
}
