// Runtime configuration: a static `config.json` next to each page (same origin, so the strict CSP
// needs no exception). Nothing in it is personal; it is validated before use.
import { Lang, pickLang } from "./i18n";

export type LinkMethod = "fragment" | "post";

export interface LinkTemplate {
  /** full IRMA attribute id the link is for, e.g. pbdf.gemeente.personalData.bsn */
  attribute: string;
  /** the target system's name, shown as "Openen in <label>" */
  label: Record<Lang, string>;
  /**
   * fragment: an https URL whose fragment holds `{value}` (never the path or query, which end up in
   *   server logs, history and Referer headers), e.g. https://kcs.example.nl/persoon#bsn={value}
   * post: an https URL the value is POSTed to as form field `field` in a new window.
   */
  url: string;
  method: LinkMethod;
  field?: string;
}

export interface AgentConfig {
  /** base URL of the idbellen HTTP API, without a trailing slash; "" = same origin */
  api_base: string;
  language: Lang;
  /** per-attribute links; off (empty) by default */
  links: LinkTemplate[];
  /** labels for purpose ids; the API returns the neutral purpose id */
  purposes: Record<string, Record<Lang, string>>;
  /** agent authentication for the API: "none" (local only) or "oidc" (code + PKCE sign-in popup) */
  auth:
    | { mode: "none" }
    | { mode: "oidc"; authorize_url: string; token_url: string; client_id: string; redirect_uri: string; scope: string };
}

export interface CitizenConfig {
  api_base: string;
  language: Lang;
  purpose: string;
  /** how often the status is polled, in milliseconds */
  poll_ms: number;
  /** the KCC's ordinary number, shown when starting fails ("" = not shown); the default tenant's */
  fallback_phone: string;
  /** with several municipalities: each one's ordinary number by tenant id (a tenant not listed: none) */
  fallback_phones: Record<string, string>;
}

function str(v: unknown, fallback = ""): string {
  return typeof v === "string" ? v : fallback;
}

function langMap(v: unknown): Record<Lang, string> {
  const o = (v && typeof v === "object" ? v : {}) as Record<string, unknown>;
  const nl = str(o.nl);
  return { nl, en: str(o.en, nl) };
}

export function apiBase(v: unknown): string {
  const s = str(v).replace(/\/+$/, "");
  if (s === "") return "";
  const u = new URL(s);
  const local = u.hostname === "127.0.0.1" || u.hostname === "localhost";
  if (u.protocol !== "https:" && !(local && u.protocol === "http:")) {
    throw new Error("api_base must be an https URL");
  }
  return s;
}

function httpsUrl(v: unknown): string {
  const s = str(v);
  const u = new URL(s, window.location.href);
  const local = u.hostname === "127.0.0.1" || u.hostname === "localhost";
  if (u.protocol !== "https:" && !(local && u.protocol === "http:")) throw new Error("auth URLs must be https");
  return u.toString();
}

/** Returns null when the template is unsafe (so it is never rendered), the template otherwise. */
export function checkLink(t: LinkTemplate): LinkTemplate | null {
  let u: URL;
  try {
    u = new URL(t.url.replace("{value}", "x"));
  } catch {
    return null;
  }
  const local = u.hostname === "127.0.0.1" || u.hostname === "localhost";
  if (u.protocol !== "https:" && !(local && u.protocol === "http:")) return null;
  if (t.method === "fragment") {
    const hash = t.url.indexOf("#");
    const at = t.url.indexOf("{value}");
    if (hash < 0 || at < hash) return null; // the value must sit in the fragment only
    return t;
  }
  if (t.method === "post") {
    if (t.url.includes("{value}") || !t.field) return null;
    return t;
  }
  return null;
}

export function parseAgentConfig(raw: unknown): AgentConfig {
  const o = (raw && typeof raw === "object" ? raw : {}) as Record<string, unknown>;
  const links: LinkTemplate[] = [];
  for (const l of Array.isArray(o.links) ? o.links : []) {
    const r = (l && typeof l === "object" ? l : {}) as Record<string, unknown>;
    const t = checkLink({
      attribute: str(r.attribute),
      label: langMap(r.label),
      url: str(r.url),
      method: r.method === "post" ? "post" : "fragment",
      field: str(r.field) || undefined,
    });
    if (t) links.push(t);
  }
  const purposes: Record<string, Record<Lang, string>> = {};
  const p = (o.purposes && typeof o.purposes === "object" ? o.purposes : {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(p)) purposes[k] = langMap(v);
  const auth = (o.auth && typeof o.auth === "object" ? o.auth : {}) as Record<string, unknown>;
  return {
    api_base: apiBase(o.api_base),
    language: pickLang(o.language),
    links,
    purposes,
    auth:
      auth.mode === "oidc"
        ? {
            mode: "oidc",
            authorize_url: httpsUrl(auth.authorize_url),
            token_url: httpsUrl(auth.token_url),
            client_id: str(auth.client_id),
            redirect_uri: httpsUrl(auth.redirect_uri),
            scope: str(auth.scope, "openid"),
          }
        : { mode: "none" },
  };
}

export function parseCitizenConfig(raw: unknown): CitizenConfig {
  const o = (raw && typeof raw === "object" ? raw : {}) as Record<string, unknown>;
  const poll = typeof o.poll_ms === "number" && o.poll_ms >= 250 ? o.poll_ms : 1500;
  const phone = str(o.fallback_phone).replace(/[^+\d ]/g, "");
  const phones: Record<string, string> = {};
  const fp = (o.fallback_phones && typeof o.fallback_phones === "object" ? o.fallback_phones : {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(fp)) phones[k] = str(v).replace(/[^+\d ]/g, "");
  return {
    api_base: apiBase(o.api_base),
    language: pickLang(o.language),
    purpose: str(o.purpose, "demo"),
    poll_ms: poll,
    fallback_phone: phone,
    fallback_phones: phones,
  };
}

export async function loadConfig(url = "./config.json"): Promise<unknown> {
  const r = await fetch(url, { cache: "no-store", credentials: "omit" });
  if (!r.ok) throw new Error("config.json: HTTP " + r.status);
  return r.json();
}
