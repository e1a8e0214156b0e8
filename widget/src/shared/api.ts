// The HTTP contract of DESIGN.md, for both pages. Secrets only ever travel in JSON bodies; requests
// carry no cookies and no Referer; nothing is cached.
export interface ApiResult<T> {
  status: number; // 0 = network error
  body: T | null;
}

export type TokenProvider = () => Promise<string | null>;

export const noToken: TokenProvider = async () => null;

export async function call<T>(
  base: string,
  method: "GET" | "POST",
  path: string,
  body?: unknown,
  opts: { token?: TokenProvider; keepalive?: boolean } = {},
): Promise<ApiResult<T>> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const token = opts.token ? await opts.token() : null;
  if (token) headers.Authorization = "Bearer " + token;
  let r: Response;
  try {
    r = await fetch(base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer",
      keepalive: opts.keepalive === true,
    });
  } catch {
    return { status: 0, body: null };
  }
  let parsed: T | null = null;
  if (r.status !== 204) {
    try {
      parsed = (await r.json()) as T;
    } catch {
      parsed = null;
    }
  }
  return { status: r.status, body: parsed };
}

export interface DisclosedAttribute {
  id: string;
  label?: string;
  labels?: { nl?: string; en?: string };
  value: string;
}

export interface Disclosure {
  purpose: string;
  /** the purpose's labels, when the API sends them */
  purpose_label?: { nl?: string; en?: string } | null;
  /** does the calling number match a disclosed mobile number: "true" | "false" | "unknown" */
  caller_match?: string;
  attributes: DisclosedAttribute[];
  disclosed_at: number;
  expires_at: number;
}

/** One municipality as the public `GET /tenants` lists it (the default first). */
export interface PublicTenant {
  id: string;
  display_name: string;
  purposes: { id: string; label: { nl?: string; en?: string } | string | null }[];
}

export interface SessionStart {
  session_id: string;
  sessionPtr: { u: string; irmaqr: string };
  frontendRequest?: Record<string, unknown>;
  phone_number: string;
  expires_at: number;
}

export type SessionStatusName = "PENDING" | "DISCLOSED" | "FAILED" | "CLOSED" | "CALLED" | "CONNECTED";

export interface SessionStatus {
  status: SessionStatusName;
  phone_number?: string;
  dtmf?: string;
}
