// Agent sign-in for the API's JWT authorizer: OpenID Connect authorization code + PKCE in a popup
// (the panel runs in a frame of the agent workspace, and identity providers refuse to be framed).
// Tokens live in memory only — never in storage, cookies or the URL — and only the access token is kept.
export interface OidcConfig {
  authorize_url: string;
  token_url: string;
  client_id: string;
  redirect_uri: string;
  scope: string;
}

export interface AgentAuth {
  /** true when the API needs a token and none is held: the panel shows a sign-in button */
  readonly required: boolean;
  token(): Promise<string | null>;
  /** opens the sign-in popup; call it from a click handler (popup blockers) */
  signIn(): Promise<boolean>;
  /** the API said 401: drop the token */
  forget(): void;
}

export const noAuth: AgentAuth = {
  required: false,
  token: async () => null,
  signIn: async () => false,
  forget: () => undefined,
};

const CALLBACK_MESSAGE = "idbellen_oidc";

function b64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomString(): string {
  return b64url(crypto.getRandomValues(new Uint8Array(32)));
}

/**
 * In the sign-in popup, back at redirect_uri: hand code + state to the panel that opened it and close.
 * Returns true when this page load was such a callback (the caller then starts no panel).
 */
export function handleSignInCallback(): boolean {
  const q = new URLSearchParams(window.location.search);
  const code = q.get("code");
  const state = q.get("state");
  if (!code || !state || !window.opener) return false;
  history.replaceState(null, "", window.location.pathname); // the one-time code leaves the URL bar
  (window.opener as Window).postMessage({ [CALLBACK_MESSAGE]: { code, state } }, window.location.origin);
  window.close();
  return true;
}

export class OidcAuth implements AgentAuth {
  readonly required = true;
  private access: { value: string; until: number } | null = null;

  constructor(private readonly cfg: OidcConfig) {}

  async token(): Promise<string | null> {
    if (this.access && Date.now() < this.access.until) return this.access.value;
    this.access = null;
    return null;
  }

  forget(): void {
    this.access = null;
  }

  signIn(): Promise<boolean> {
    // open synchronously inside the click, navigate once the PKCE challenge is computed
    const popup = window.open("about:blank", "idbellen-signin", "popup,width=520,height=680");
    if (!popup) return Promise.resolve(false);
    const state = randomString();
    const verifier = randomString();
    return new Promise<boolean>((resolve) => {
      const done = (ok: boolean) => {
        window.removeEventListener("message", onMessage);
        window.clearInterval(watch);
        resolve(ok);
      };
      const onMessage = async (e: MessageEvent) => {
        if (e.origin !== window.location.origin || e.source !== popup) return;
        const m = (e.data as Record<string, { code?: string; state?: string }> | null)?.[CALLBACK_MESSAGE];
        if (!m || m.state !== state || !m.code) return;
        done(await this.exchange(m.code, verifier));
      };
      window.addEventListener("message", onMessage);
      const watch = window.setInterval(() => {
        if (popup.closed) window.setTimeout(() => done(this.access !== null), 500);
      }, 500);
      void (async () => {
        const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
        const url = new URL(this.cfg.authorize_url);
        url.search = new URLSearchParams({
          response_type: "code",
          client_id: this.cfg.client_id,
          redirect_uri: this.cfg.redirect_uri,
          scope: this.cfg.scope,
          state,
          code_challenge: b64url(new Uint8Array(digest)),
          code_challenge_method: "S256",
        }).toString();
        popup.location.href = url.toString();
      })();
    });
  }

  private async exchange(code: string, verifier: string): Promise<boolean> {
    let r: Response;
    try {
      r = await fetch(this.cfg.token_url, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: "authorization_code",
          client_id: this.cfg.client_id,
          code,
          redirect_uri: this.cfg.redirect_uri,
          code_verifier: verifier,
        }).toString(),
        credentials: "omit",
        cache: "no-store",
        referrerPolicy: "no-referrer",
      });
    } catch {
      return false;
    }
    if (!r.ok) return false;
    const body = (await r.json()) as { access_token?: string; expires_in?: number };
    if (!body.access_token) return false;
    const seconds = typeof body.expires_in === "number" ? body.expires_in : 300;
    this.access = { value: body.access_token, until: Date.now() + Math.max(seconds - 30, 30) * 1000 };
    return true;
  }
}
