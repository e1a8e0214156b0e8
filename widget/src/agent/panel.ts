// The agent panel: one controller for whatever feeds it contacts (agent workspace app, Streams CCP
// page, or the local simulated CCP). It holds personal data only in memory, only for the current
// contact, never longer than the record's expires_at, and wipes the DOM and its references on clear.
// It never writes to any browser storage, the URL or the console.
import { AgentConfig, LinkTemplate } from "../shared/config";
import { call, Disclosure, DisclosedAttribute } from "../shared/api";
import type { AgentAuth } from "./auth";
import { Lang, TEXTS, Texts } from "../shared/i18n";

/** The three contact attributes the contact flow sets (DESIGN.md). */
export interface ContactAttributes {
  session_secret?: string;
  verified?: string;
  purpose?: string;
}

export const CONTACT_ATTRIBUTE_NAMES = ["session_secret", "verified", "purpose"] as const;

type ErrorKind = "network" | "auth" | "server" | "contact";

type View =
  | { kind: "idle" }
  | { kind: "cleared" }
  | { kind: "loading" }
  | { kind: "signin" }
  | { kind: "verified"; data: Disclosure }
  | { kind: "not_verified"; purpose: string }
  | { kind: "expired"; purpose: string }
  | { kind: "error"; error: ErrorKind; purpose: string };

interface Current {
  contactId: string;
  secret: string | null;
  purpose: string;
  generation: number;
}

export class AgentPanel {
  private lang: Lang;
  private view: View = { kind: "idle" };
  private current: Current | null = null;
  private generation = 0;
  private expiryTimer: number | undefined;
  private readonly body: HTMLElement;
  private readonly announcer: HTMLElement;
  private readonly langButton: HTMLButtonElement;
  private readonly title: HTMLElement;

  constructor(
    private readonly root: HTMLElement,
    private readonly config: AgentConfig,
    private readonly auth: AgentAuth,
    private readonly now: () => number = () => Date.now() / 1000,
  ) {
    this.lang = config.language;
    root.replaceChildren();
    const header = el("header", "panel-header");
    this.title = el("h1", "panel-title");
    this.langButton = el("button", "lang-switch") as HTMLButtonElement;
    this.langButton.type = "button";
    this.langButton.addEventListener("click", () => this.setLang(this.lang === "nl" ? "en" : "nl"));
    header.append(this.title, this.langButton);
    this.announcer = el("div", "visually-hidden");
    this.announcer.setAttribute("role", "status");
    this.announcer.setAttribute("aria-live", "polite");
    this.body = el("section", "panel-body");
    this.body.setAttribute("aria-labelledby", "panel-state-heading");
    root.append(header, this.announcer, this.body);
    this.render();
  }

  get state(): View["kind"] {
    return this.view.kind;
  }

  setLang(lang: Lang): void {
    this.lang = lang;
    document.documentElement.lang = lang;
    this.render();
  }

  /** A contact is (again) on screen: show its state. Replaces any previous contact (wiped first). */
  async showContact(contactId: string, attrs: ContactAttributes): Promise<void> {
    if (this.current && this.current.contactId !== contactId) this.wipe();
    if (this.current && this.current.contactId === contactId && this.view.kind === "verified") return;
    const generation = ++this.generation;
    const secret = attrs.session_secret && attrs.session_secret.length > 0 ? attrs.session_secret : null;
    const purpose = attrs.purpose ?? "";
    this.current = { contactId, secret, purpose, generation };
    if (attrs.verified !== "true" || !secret) {
      this.setView({ kind: "not_verified", purpose });
      return;
    }
    await this.fetchDisclosure();
  }

  /** Retry after an error. */
  async retry(): Promise<void> {
    if (this.current && this.current.secret) {
      this.current.generation = ++this.generation;
      await this.fetchDisclosure();
    }
  }

  /**
   * This agent's segment of the contact ended (after-contact work done, contact cleared): wipe what is
   * shown of it, then tell the API with `POST /agent/clear {secret, contact_id}` — which ends that
   * segment only (the last live one deletes everything). `secret` is for a contact the adapter accepted
   * but is no longer on screen (Streams: a second contact replaced it). Idempotent.
   */
  async clear(contactId?: string, secret?: string | null): Promise<void> {
    const cur = this.current;
    const shown = cur !== null && (!contactId || cur.contactId === contactId);
    const id = contactId ?? cur?.contactId;
    const key = secret ?? (shown && cur ? cur.secret : null);
    if (shown) {
      this.wipe();
      this.setView({ kind: "cleared" });
    }
    if (key && id) {
      // keepalive: the request survives the frame being torn down right after onCleared
      await call<null>(this.config.api_base, "POST", "/agent/clear", { secret: key, contact_id: id }, {
        token: () => this.auth.token(),
        keepalive: true,
      });
    }
  }

  /**
   * The contact leaves this panel without ending this agent's segment: a missed or rejected offer, a
   * supervisor's monitoring that stops, or the app tab being closed. Wipe locally; the server is not
   * told anything (the caller is still on the line, or waiting for the next agent).
   */
  forget(contactId?: string): void {
    const cur = this.current;
    if (cur && contactId && cur.contactId !== contactId) return;
    if (cur) {
      this.wipe();
      this.setView({ kind: "idle" });
    }
  }

  /** Drop every reference to personal data and the secret; the DOM is re-rendered by setView. */
  private wipe(): void {
    this.generation++;
    this.current = null;
    if (this.expiryTimer !== undefined) window.clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    this.view = { kind: "idle" };
    this.body.replaceChildren();
  }

  private async fetchDisclosure(): Promise<void> {
    const cur = this.current;
    if (!cur || !cur.secret) return;
    const generation = cur.generation;
    const token = await this.auth.token();
    if (this.auth.required && !token) {
      this.setView({ kind: "signin" });
      return;
    }
    this.setView({ kind: "loading" });
    const r = await call<Disclosure>(
      this.config.api_base,
      "POST",
      "/agent/disclosure",
      { secret: cur.secret, contact_id: cur.contactId },
      { token: async () => token },
    );
    if (!this.current || this.current.generation !== generation) return; // cleared or replaced meanwhile
    if (r.status === 401 && this.auth.required) {
      this.auth.forget();
      this.setView({ kind: "signin" });
      return;
    }
    const purpose = cur.purpose;
    if (r.status === 200 && r.body && Array.isArray(r.body.attributes)) {
      const data = r.body;
      const left = data.expires_at - this.now();
      if (!(left > 0)) {
        this.setView({ kind: "expired", purpose });
        return;
      }
      this.setView({ kind: "verified", data });
      // never keep the data past the record's lifetime
      this.expiryTimer = window.setTimeout(() => {
        if (this.current && this.current.generation === generation) this.setView({ kind: "expired", purpose });
      }, Math.min(left, 3600) * 1000);
    } else if (r.status === 404) {
      this.setView({ kind: "expired", purpose });
    } else if (r.status === 0) {
      this.setView({ kind: "error", error: "network", purpose });
    } else if (r.status === 401 || r.status === 403) {
      this.setView({ kind: "error", error: "auth", purpose });
    } else {
      this.setView({ kind: "error", error: "server", purpose });
    }
  }

  /** The contact's attributes could not be read from Connect. */
  contactError(contactId: string): void {
    this.wipe();
    this.current = { contactId, secret: null, purpose: "", generation: ++this.generation };
    this.setView({ kind: "error", error: "contact", purpose: "" });
  }

  private setView(v: View): void {
    this.view = v;
    this.render();
    this.announcer.textContent = this.headline(TEXTS[this.lang]);
  }

  private headline(t: Texts): string {
    switch (this.view.kind) {
      case "idle":
        return t.idle;
      case "cleared":
        return t.cleared;
      case "loading":
        return t.loading;
      case "signin":
        return t.signInNeeded;
      case "verified":
        return t.verified;
      case "not_verified":
        return t.notVerified + ". " + t.notVerifiedHelp;
      case "expired":
        return t.expired + ". " + t.expiredHelp;
      case "error":
        return t.error;
    }
  }

  private render(): void {
    const t = TEXTS[this.lang];
    const v = this.view;
    this.title.textContent = t.agentTitle;
    this.langButton.textContent = t.langSwitch;
    this.langButton.setAttribute("aria-label", t.langSwitchLabel);
    this.langButton.lang = this.lang === "nl" ? "en" : "nl";
    this.root.dataset.state = v.kind;
    const nodes: Node[] = [];
    const banner = (cls: string, icon: Icon, heading: string, help: string | null) => {
      const b = el("div", "banner banner-" + cls);
      const i = el("span", "banner-icon");
      i.setAttribute("aria-hidden", "true");
      i.append(svgIcon(icon));
      const h = el("h2", "banner-heading");
      h.id = "panel-state-heading";
      h.textContent = heading;
      const text = el("div", "banner-text");
      text.append(h);
      if (help) text.append(para(help, "banner-help"));
      b.append(i, text);
      nodes.push(b);
    };
    switch (v.kind) {
      case "idle":
        banner("idle", "dash", t.idle, t.idleHelp);
        break;
      case "cleared":
        banner("idle", "dash", t.cleared, null);
        break;
      case "loading":
        banner("loading", "dots", t.loading, null);
        this.body.setAttribute("aria-busy", "true");
        break;
      case "signin": {
        banner("idle", "lock", t.signInNeeded, t.signInHelp);
        const b = el("button", "signin") as HTMLButtonElement;
        b.type = "button";
        b.textContent = t.signIn;
        b.addEventListener("click", () => {
          void this.auth.signIn().then((ok) => (ok ? this.retry() : undefined));
        });
        nodes.push(b);
        break;
      }
      case "verified":
        banner("verified", "check", t.verified, t.verifiedHelp);
        if (v.data.caller_match === "false") nodes.push(para(t.callerMismatch, "caller-mismatch"));
        nodes.push(this.purposeLine(t, v.data.purpose, v.data.purpose_label));
        nodes.push(this.attributeList(t, v.data.attributes));
        if (v.data.caller_match === "true") nodes.push(para(t.callerMatch, "caller-match"));
        nodes.push(this.times(t, v.data));
        break;
      case "not_verified":
        banner("unverified", "bang", t.notVerified, t.notVerifiedHelp);
        if (v.purpose) nodes.push(this.purposeLine(t, v.purpose));
        break;
      case "expired":
        banner("expired", "clock", t.expired, t.expiredHelp);
        if (v.purpose) nodes.push(this.purposeLine(t, v.purpose));
        break;
      case "error": {
        const msg = { network: t.errorNetwork, auth: t.errorAuth, server: t.errorServer, contact: t.errorContact }[
          v.error
        ];
        banner("error", "cross", t.error, msg);
        if (v.error !== "contact") {
          const b = el("button", "retry") as HTMLButtonElement;
          b.type = "button";
          b.textContent = t.retry;
          b.addEventListener("click", () => void this.retry());
          nodes.push(b);
        }
        break;
      }
    }
    if (v.kind !== "loading") this.body.removeAttribute("aria-busy");
    this.body.replaceChildren(...nodes);
  }

  private purposeLine(t: Texts, purpose: string, fromApi?: Disclosure["purpose_label"]): HTMLElement {
    const dl = el("dl", "purpose");
    const dt = el("dt");
    dt.textContent = t.purpose;
    const dd = el("dd");
    const labels = this.config.purposes[purpose];
    dd.textContent =
      (fromApi && (fromApi[this.lang] || fromApi.nl)) || (labels ? labels[this.lang] || labels.nl : purpose);
    dl.append(dt, dd);
    return dl;
  }

  private attributeList(t: Texts, attrs: DisclosedAttribute[]): HTMLElement {
    const wrap = el("div", "attributes");
    const h = el("h3", "attributes-heading");
    h.textContent = t.attributes;
    const dl = el("dl", "attribute-list");
    for (const a of attrs) {
      const row = el("div", "attribute");
      row.dataset.attribute = a.id;
      const dt = el("dt");
      dt.textContent = (a.labels && (a.labels[this.lang] || a.labels.nl)) || a.label || a.id;
      const dd = el("dd");
      const value = el("span", "attribute-value");
      value.textContent = a.value;
      dd.append(value);
      for (const link of this.config.links) {
        if (link.attribute === a.id) dd.append(this.linkFor(t, link, a.value));
      }
      row.append(dt, dd);
      dl.append(row);
    }
    wrap.append(h, dl);
    return wrap;
  }

  /** A hand-off to another system: the value only in the fragment or a POST body, never a query. */
  private linkFor(t: Texts, link: LinkTemplate, value: string): HTMLElement {
    const name = link.label[this.lang] || link.label.nl;
    if (link.method === "post") {
      const f = el("form", "handoff") as HTMLFormElement;
      f.method = "post";
      f.action = link.url;
      f.target = "_blank";
      f.rel = "noopener noreferrer";
      const input = el("input") as HTMLInputElement;
      input.type = "hidden";
      input.name = link.field ?? "value";
      input.value = value;
      const b = el("button", "handoff-button") as HTMLButtonElement;
      b.type = "submit";
      b.textContent = `${t.openIn} ${name}`;
      b.setAttribute("aria-label", `${t.openIn} ${name} ${t.newWindow}`);
      f.append(input, b);
      return f;
    }
    const a = el("a", "handoff-link") as HTMLAnchorElement;
    a.href = link.url.replace("{value}", encodeURIComponent(value));
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    a.referrerPolicy = "no-referrer";
    a.textContent = `${t.openIn} ${name}`;
    a.setAttribute("aria-label", `${t.openIn} ${name} ${t.newWindow}`);
    return a;
  }

  private times(t: Texts, d: Disclosure): HTMLElement {
    const fmt = (s: number) =>
      new Date(s * 1000).toLocaleTimeString(this.lang === "nl" ? "nl-NL" : "en-GB", {
        hour: "2-digit",
        minute: "2-digit",
      });
    return para(`${t.disclosedAt} ${fmt(d.disclosed_at)} · ${t.expiresAt} ${fmt(d.expires_at)}`, "times");
  }
}

type Icon = "dash" | "dots" | "check" | "bang" | "clock" | "cross" | "lock";

const ICON_PATHS: Record<Icon, string> = {
  dash: "M6 12h12",
  dots: "M6 12h.01M12 12h.01M18 12h.01",
  check: "M5 12.5l4.5 4.5L19 7",
  bang: "M12 5v9M12 18.5v.5",
  clock: "M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18M12 7v5l3.5 2.5",
  cross: "M6 6l12 12M18 6L6 18",
  lock: "M6 11h12v9H6zM8.5 11V8a3.5 3.5 0 0 1 7 0v3",
};

/** Icons as inline SVG built with DOM calls: no font glyph gaps, nothing inline for the CSP. */
function svgIcon(icon: Icon): SVGElement {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("focusable", "false");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", ICON_PATHS[icon]);
  path.setAttribute("fill", "none");
  path.setAttribute("stroke", "currentColor");
  path.setAttribute("stroke-width", icon === "dots" ? "4" : "3");
  path.setAttribute("stroke-linecap", "round");
  path.setAttribute("stroke-linejoin", "round");
  svg.append(path);
  return svg;
}

function el(tag: string, cls?: string): HTMLElement {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  return e;
}

function para(text: string, cls: string): HTMLElement {
  const p = el("p", cls);
  p.textContent = text;
  return p;
}

/** Picks the three attributes from whatever map the source gives, dropping everything else. */
export function pickAttributes(get: (name: string) => string | undefined): ContactAttributes {
  return { session_secret: get("session_secret"), verified: get("verified"), purpose: get("purpose") };
}
