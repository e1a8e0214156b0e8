// The citizen's call page: "Bellen met Yivi" for one purpose. It starts the session at OUR API
// (POST /sessions; never the IRMA server's requestor endpoint), lets yivi-frontend show the QR code /
// app link and follow the IRMA session, and shows our own status (GET /sessions/{id}). The number and
// code for dialling by hand appear only after disclosure. Nothing is stored in the browser.
// Several municipalities on one deployment (issue 14): with more than one tenant in the public
// `GET /tenants`, the page shows a municipality choice (preselected by `?tenant=<id>`, else the default)
// and that municipality's purposes, names the municipality it is calling, and starts the session with
// `{purpose, tenant}` — the page's own, public choice. With one tenant the page is as before.
import yivi from "@privacybydesign/yivi-frontend";
import { call, PublicTenant, SessionStart, SessionStatus } from "../shared/api";
import { CitizenConfig, loadConfig, parseCitizenConfig } from "../shared/config";
import { TEXTS, Texts } from "../shared/i18n";

type Shown = "idle" | "starting" | "start_error" | SessionStatus["status"] | "done" | "gone";

function $(id: string): HTMLElement {
  const e = document.getElementById(id);
  if (!e) throw new Error("missing #" + id);
  return e;
}

class CallPage {
  private t: Texts;
  private sessionId: string | null = null;
  private timer: number | undefined;
  private shown: Shown = "idle";
  private everCalled = false;
  private run = 0;
  private readonly tenants: PublicTenant[];
  private tenant: PublicTenant | null = null;

  constructor(
    private readonly cfg: CitizenConfig,
    tenants: PublicTenant[],
    wanted: string | null,
  ) {
    this.tenants = tenants.length > 1 ? tenants : []; // one municipality: nothing to choose, as before
    this.t = TEXTS[cfg.language];
    document.documentElement.lang = cfg.language;
    $("title").textContent = this.t.citizenTitle;
    $("intro").textContent = this.t.citizenIntro;
    $("privacy").textContent = this.t.privacyNote;
    const button = $("call") as HTMLButtonElement;
    button.textContent = this.t.callButton;
    button.disabled = false;
    button.addEventListener("click", () => void this.start());
    const again = $("again") as HTMLButtonElement;
    again.textContent = this.t.tryAgain;
    again.addEventListener("click", () => void this.start());
    if (this.tenants.length > 0) this.setUpChoice(wanted);
  }

  // -- the municipality choice ------------------------------------------------------------------------
  private setUpChoice(wanted: string | null): void {
    const t = this.t;
    $("choice-legend").textContent = t.choiceLegend;
    $("tenant-label").textContent = t.tenantLabel;
    $("purpose-label").textContent = t.purposeLabel;
    const select = $("tenant") as HTMLSelectElement;
    select.replaceChildren(
      ...this.tenants.map((x) => Object.assign(document.createElement("option"), { value: x.id, textContent: x.display_name })),
    );
    const first = this.tenants.find((x) => x.id === wanted) ?? this.tenants[0];
    select.value = first.id;
    select.addEventListener("change", () => this.pickTenant(select.value, null));
    const purpose = $("purpose") as HTMLSelectElement;
    purpose.addEventListener("change", () => (this.cfg.purpose = purpose.value));
    this.pickTenant(first.id, this.cfg.purpose); // the configured (or ?purpose=) one when it has it
    $("choice").hidden = false;
  }

  private pickTenant(id: string, purposeId: string | null): void {
    const tenant = this.tenants.find((x) => x.id === id);
    if (!tenant) return;
    this.tenant = tenant;
    document.body.dataset.tenant = tenant.id;
    const purpose = $("purpose") as HTMLSelectElement;
    purpose.replaceChildren(
      ...tenant.purposes.map((p) => Object.assign(document.createElement("option"), { value: p.id, textContent: this.label(p) })),
    );
    // the purpose asked for, else the one chosen so far when this tenant has it, else its first
    const keep = tenant.purposes.find((p) => p.id === (purposeId ?? this.cfg.purpose)) ?? tenant.purposes[0];
    if (keep) purpose.value = keep.id;
    this.cfg.purpose = keep ? keep.id : "";
    ($("call") as HTMLButtonElement).disabled = !keep;
    const calling = $("calling");
    calling.textContent = `${this.t.callingTenant} ${tenant.display_name}`;
    calling.hidden = false;
  }

  private label(p: PublicTenant["purposes"][number]): string {
    const l = p.label;
    if (typeof l === "string" && l) return l;
    if (l && typeof l === "object") return l[this.cfg.language] || l.nl || l.en || p.id;
    return p.id;
  }

  private lockChoice(locked: boolean): void {
    ($("tenant") as HTMLSelectElement).disabled = locked;
    ($("purpose") as HTMLSelectElement).disabled = locked;
  }

  private showAgain(): void {
    $("again").hidden = false;
    this.lockChoice(false); // starting again may be for another municipality or purpose
  }

  /** The ordinary number of the municipality being called, for calling without Yivi. */
  private fallbackPhone(): string {
    if (!this.tenant) return this.cfg.fallback_phone;
    const own = this.cfg.fallback_phones[this.tenant.id];
    if (own !== undefined) return own;
    return this.tenant.id === this.tenants[0].id ? this.cfg.fallback_phone : "";
  }

  private setStatus(shown: Shown, text: string, help = "", kind: "info" | "ok" | "error" = "info"): void {
    this.shown = shown;
    document.body.dataset.status = shown;
    const box = $("status");
    box.dataset.kind = kind;
    const h = $("status-text");
    h.textContent = text;
    $("status-help").textContent = help;
    box.hidden = false;
  }

  private stopPolling(): void {
    if (this.timer !== undefined) window.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async start(): Promise<void> {
    const run = ++this.run;
    this.stopPolling();
    this.sessionId = null;
    this.everCalled = false;
    this.hideDial();
    ($("call") as HTMLButtonElement).hidden = true;
    $("again").hidden = true;
    this.lockChoice(true);
    const form = $("yivi-web-form");
    form.replaceChildren();
    form.className = "";
    this.setStatus("starting", this.t.starting);
    $("status-text").focus();
    const body: Record<string, string> = { purpose: this.cfg.purpose };
    if (this.tenant) body.tenant = this.tenant.id; // the page's public choice of municipality
    const r = await call<SessionStart>(this.cfg.api_base, "POST", "/sessions", body);
    if (run !== this.run) return;
    if (r.status !== 201 || !r.body || !r.body.sessionPtr || !r.body.session_id) {
      const phone = this.fallbackPhone();
      this.setStatus("start_error", this.t.citizenErrorStart, phone ? `${this.t.callWithout} ${phone}` : "", "error");
      this.showAgain();
      return;
    }
    const started = r.body;
    this.sessionId = started.session_id;
    form.hidden = false;
    this.setStatus("PENDING", this.t.statusPending, this.t.scanHelp);
    const web = yivi.newWeb({
      debugging: false,
      element: "#yivi-web-form",
      language: this.cfg.language,
      session: {
        start: false, // we started it at our own API above
        mapping: { sessionPtr: () => started.sessionPtr, frontendRequest: () => started.frontendRequest },
        result: false, // the result never comes to the browser
      },
    });
    web
      .start()
      .then(() => {
        // the app finished: ask our backend to fetch the result now (one of three idempotent triggers)
        if (run === this.run && this.sessionId) {
          void call(this.cfg.api_base, "POST", `/sessions/${encodeURIComponent(this.sessionId)}/complete`, {});
          this.poll(run, 0);
        }
      })
      .catch(() => {
        if (run === this.run) this.poll(run, 0);
      });
    this.poll(run, 0);
  }

  private poll(run: number, delay: number): void {
    this.stopPolling();
    this.timer = window.setTimeout(() => void this.pollOnce(run), delay);
  }

  private async pollOnce(run: number): Promise<void> {
    if (run !== this.run || !this.sessionId) return;
    const r = await call<SessionStatus>(this.cfg.api_base, "GET", `/sessions/${encodeURIComponent(this.sessionId)}`);
    if (run !== this.run) return;
    const t = this.t;
    if (r.status === 404) {
      this.finish();
      if (this.everCalled) this.setStatus("done", t.statusDone, "", "ok");
      else {
        this.setStatus("gone", t.statusFailed, "", "error");
        this.showAgain();
      }
      return;
    }
    if (r.status !== 200 || !r.body) {
      $("status-help").textContent = t.citizenErrorStatus;
      this.poll(run, this.cfg.poll_ms * 2);
      return;
    }
    const s = r.body;
    switch (s.status) {
      case "PENDING":
        if (this.shown !== "PENDING") this.setStatus("PENDING", t.statusPending, t.scanHelp);
        else $("status-help").textContent = t.scanHelp;
        break;
      case "DISCLOSED":
        if (this.shown !== "DISCLOSED") this.setStatus("DISCLOSED", t.statusDisclosed, "", "ok");
        $("yivi-web-form").hidden = true; // done in the app: make room for the number and code
        if (s.phone_number && s.dtmf) this.showDial(s.phone_number, s.dtmf);
        break;
      case "CALLED":
        this.everCalled = true;
        this.hideDial();
        $("yivi-web-form").hidden = true;
        if (this.shown !== "CALLED") this.setStatus("CALLED", t.statusCalled, "", "ok");
        break;
      case "CONNECTED":
        this.everCalled = true;
        this.hideDial();
        $("yivi-web-form").hidden = true;
        if (this.shown !== "CONNECTED") this.setStatus("CONNECTED", t.statusConnected, "", "ok");
        break;
      case "FAILED":
        this.finish();
        this.setStatus("FAILED", t.statusFailed, "", "error");
        this.showAgain();
        return;
      case "CLOSED":
        this.finish();
        this.setStatus("CLOSED", t.statusClosed, "", "error");
        return;
    }
    this.poll(run, this.cfg.poll_ms);
  }

  private finish(): void {
    this.stopPolling();
    this.hideDial();
    $("yivi-web-form").hidden = true;
    this.sessionId = null;
  }

  private showDial(phone: string, code: string): void {
    const box = $("dial");
    if (!box.hidden) return;
    const t = this.t;
    const intro = document.createElement("p");
    intro.textContent = t.dialByHand;
    const dl = document.createElement("dl");
    const row = (label: string, value: string, cls: string) => {
      const dt = document.createElement("dt");
      dt.textContent = label;
      const dd = document.createElement("dd");
      dd.className = cls;
      dd.textContent = value;
      dl.append(dt, dd);
    };
    if (this.tenant) row(t.tenantLabel, this.tenant.display_name, "dial-tenant");
    row(t.phoneNumber, phone, "dial-number");
    row(t.code, code.replace(/(\d{4})(?=\d)/g, "$1 "), "dial-code");
    const a = document.createElement("a");
    a.className = "dial-link";
    a.href = `tel:${phone.replace(/[^+\d]/g, "")},${code.replace(/\D/g, "")}`;
    a.textContent = t.callNow;
    box.replaceChildren(intro, dl, a);
    box.hidden = false;
  }

  private hideDial(): void {
    const box = $("dial");
    box.replaceChildren();
    box.hidden = true;
  }
}

/** The public list of municipalities; on any failure none (the page then works as a single-tenant one). */
async function loadTenants(base: string): Promise<PublicTenant[]> {
  const r = await call<unknown>(base, "GET", "/tenants");
  if (r.status !== 200 || !Array.isArray(r.body)) return [];
  return r.body.filter(
    (x): x is PublicTenant =>
      !!x &&
      typeof x === "object" &&
      typeof (x as PublicTenant).id === "string" &&
      typeof (x as PublicTenant).display_name === "string" &&
      Array.isArray((x as PublicTenant).purposes),
  );
}

void (async () => {
  let cfg: CitizenConfig;
  try {
    cfg = parseCitizenConfig(await loadConfig());
  } catch {
    cfg = parseCitizenConfig({});
  }
  const q = new URLSearchParams(window.location.search);
  const purpose = q.get("purpose");
  if (purpose && /^[a-z0-9_-]{1,64}$/i.test(purpose)) cfg.purpose = purpose;
  if (q.get("lang") === "en") cfg.language = "en";
  const tenant = q.get("tenant");
  const wanted = tenant && /^[a-z0-9][a-z0-9-]{0,39}$/.test(tenant) ? tenant : null;
  new CallPage(cfg, await loadTenants(cfg.api_base), wanted);
})();
