// LOCAL SIMULATED AGENT DESKTOP (make serve / browser tests only; never deployed).
// One page = one simulated agent (`?agent=<NameID>`, default the dev agent) working in one entry
// (`?entry=app`: the agent workspace with per-contact app instances, agent/sim.html; `?entry=streams`: a
// Streams CCP page, agent/sim-streams.html). It stands in for Amazon Connect's routing (offers, accept,
// reject, missed offers, after-contact work, clear, cold and warm transfers, a supervisor's monitoring:
// `make serve`'s /dev/api/desk and /dev/api/contacts/<id>/<action>, which drive the dev stack's Connect
// stand-in and contact events) and for the SDKs the panel talks to, producing each contact's events
// under their real names (see agent/sim-protocol.ts):
// - workspace: an app instance per contact, created when the contact reaches this agent (also while it
//   is only offered) or when the agent reopens the app's tab; "contact/connected" on accept, "contact/acw"
//   when the call ends, "contact/missed" + "contact/cleared" for a missed or rejected offer,
//   "contact/cleared" when the contact leaves the agent, then the instance's onDestroy; closing the tab is
//   onDestroy alone. Requests are answered like the workspace: getAttributes, listParticipants (this
//   agent's participant is `agent`, or `monitoring` for a supervisor), getParticipantState.
// - Streams: the agent's contact snapshot (connecting / connected / missed / rejected / ended, connection
//   agent or monitoring, attributes null while monitoring); the page turns snapshot changes into Streams'
//   contact events.
// Several municipalities (issue 14): `?tenant=<id>` (or the picker on the page) signs the agent in at
// that municipality's dev identity provider (default agent: that tenant's dev agent). The claims the
// panel's API calls carry come from that IdP; the desk lists only contacts on that tenant's instance.
import type { BaseContactLifecycleEvent, ParticipantData, ParticipantState } from "@amazon-connect/contact";
import type {
  FromApp,
  LifecycleTopic,
  ReplyValue,
  StreamsContactData,
  StreamsState,
  ToApp,
  ToStreams,
} from "../agent/sim-protocol";

type DeskState = "queued" | "offered" | "connected" | "acw";

interface DeskContact {
  contact_id: string;
  initial_contact_id: string;
  state: DeskState;
  role: "agent" | "monitoring";
  attributes: Record<string, string>;
}

interface Desk {
  agent: string;
  tenant: string;
  tenant_name: string;
  agents: string[];
  queue: { contact_id: string; attributes: Record<string, string> }[];
  contacts: DeskContact[];
  others: { contact_id: string; agent: string }[];
}

interface AppInstance {
  contactId: string | null;
  frame: HTMLIFrameElement;
  created: boolean;
}

const $ = (id: string) => {
  const e = document.getElementById(id);
  if (!e) throw new Error("missing #" + id);
  return e;
};

const params = new URLSearchParams(window.location.search);
const AGENT_PARAM = params.get("agent");
const TENANT_PARAM = params.get("tenant");
const ENTRY: "app" | "streams" = params.get("entry") === "streams" ? "streams" : "app";
const FAIL = params.get("fail"); // "client": the app's ContactClient cannot be built; "attributes": reads fail
const host = $("widget-host");

let agent = AGENT_PARAM ?? "";
let known = new Map<string, DeskContact>(); // this agent's contacts as last seen
const endings = new Map<string, "missed" | "rejected">(); // how this agent's offer ended (its own click)
const closedTabs = new Set<string>();
const instances: AppInstance[] = [];
let streamsFrame: HTMLIFrameElement | null = null;
let selected: string | null = null;
let counter = 0;

async function api(method: string, path: string, body?: unknown): Promise<unknown> {
  const r = await fetch(path, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
  });
  if (!r.ok) throw new Error("HTTP " + r.status);
  return r.status === 204 ? null : r.json();
}

function short(id: string): string {
  return id.slice(0, 8);
}

function frameUrl(page: string): string {
  const q = new URLSearchParams({ instance: String(++counter) });
  if (AGENT_PARAM) q.set("agent", AGENT_PARAM);
  if (TENANT_PARAM) q.set("tenant", TENANT_PARAM);
  if (FAIL === "client") q.set("fail", "client");
  return `../agent/${page}?${q.toString()}`;
}

// -- the agent workspace: one app instance per contact ---------------------------------------------
function newInstance(contactId: string | null): AppInstance {
  const frame = document.createElement("iframe");
  frame.className = "app-frame";
  frame.title = "idbellen: beller-identiteit";
  frame.dataset.contact = contactId ?? "";
  frame.src = frameUrl("sim.html");
  host.append(frame);
  const instance = { contactId, frame, created: false };
  instances.push(instance);
  return instance;
}

function instanceFor(contactId: string): AppInstance | undefined {
  return instances.find((i) => i.contactId === contactId);
}

function removeInstance(instance: AppInstance): void {
  instance.frame.remove();
  instances.splice(instances.indexOf(instance), 1);
}

function toApp(instance: AppInstance, m: ToApp): void {
  instance.frame.contentWindow?.postMessage(m, window.location.origin);
}

function lifecycleEvent(instance: AppInstance, topic: LifecycleTopic, contact: DeskContact): void {
  if (!instance.created) return; // not subscribed yet: it reads the current state when it is created
  const event: BaseContactLifecycleEvent = {
    contactId: contact.contact_id,
    initialContactId: contact.initial_contact_id,
    type: "voice",
    subtype: "connect:Telephony",
  };
  toApp(instance, { idbellen_sim: "event", topic, event });
}

function participantState(contact: DeskContact): ParticipantState {
  if (contact.role === "monitoring") return { value: "silent_monitor" } as ParticipantState;
  const value = { queued: "connecting", offered: "connecting", connected: "connected", acw: "disconnected" }[contact.state];
  return { value } as ParticipantState;
}

function answer(m: Extract<FromApp, { idbellen_sim: "request" }>): ReplyValue | null {
  const byContact = (id: unknown) => known.get(String(id));
  if (m.route === "contact/getAttributes") {
    const contact = byContact(m.params.contactId);
    if (!contact || FAIL === "attributes") return null;
    const wanted = Array.isArray(m.params.attributes) ? m.params.attributes.map(String) : Object.keys(contact.attributes);
    return Object.fromEntries(wanted.filter((n) => n in contact.attributes).map((n) => [n, contact.attributes[n]]));
  }
  if (m.route === "contact/listParticipants") {
    const contact = byContact(m.params.contactId);
    if (!contact) return null;
    const self: ParticipantData = {
      participantId: "self-" + contact.contact_id,
      contactId: contact.contact_id,
      type: { value: contact.role === "monitoring" ? "monitoring" : "agent" },
      isInitial: false,
      isSelf: true,
    };
    const caller: ParticipantData = {
      participantId: "caller-" + contact.contact_id,
      contactId: contact.contact_id,
      type: { value: "inbound" },
      isInitial: true,
      isSelf: false,
    };
    return [caller, self];
  }
  const id = String(m.params.participantId ?? "");
  const contact = id.startsWith("self-") ? byContact(id.slice(5)) : undefined;
  return contact ? participantState(contact) : null;
}

// -- a Streams CCP page: one page, the agent's snapshot ---------------------------------------------
function streamsData(contact: DeskContact, state?: StreamsState): StreamsContactData {
  const monitoring = contact.role === "monitoring";
  const mapped: StreamsState = state ?? (({ queued: "connecting", offered: "connecting", connected: "connected", acw: "ended" } as const)[contact.state]);
  return {
    contactId: contact.contact_id,
    state: monitoring ? "connected" : mapped,
    connection: monitoring ? "monitoring" : "agent",
    attributes: monitoring
      ? null
      : Object.fromEntries(Object.entries(contact.attributes).map(([name, value]) => [name, { name, value }])),
  };
}

function sendSnapshot(extra: StreamsContactData[] = []): void {
  if (!streamsFrame) return;
  const contacts = [...extra, ...[...known.values()].map((c) => streamsData(c))];
  const m: ToStreams = { idbellen_sim: "snapshot", contacts };
  streamsFrame.contentWindow?.postMessage(m, window.location.origin);
}

// -- the desk ---------------------------------------------------------------------------------------
function follow(next: Map<string, DeskContact>): void {
  const gone: StreamsContactData[] = [];
  for (const [id, before] of known) {
    const after = next.get(id);
    const instance = ENTRY === "app" ? instanceFor(id) : undefined;
    if (after) {
      if (instance && before.state !== after.state) {
        if (after.state === "connected") lifecycleEvent(instance, "contact/connected", after);
        if (after.state === "acw") lifecycleEvent(instance, "contact/acw", after);
      }
      continue;
    }
    // the contact left this agent
    if (before.state === "offered") gone.push(streamsData(before, endings.get(id) ?? "missed"));
    if (instance) {
      if (before.state === "offered") lifecycleEvent(instance, "contact/missed", before);
      lifecycleEvent(instance, "contact/cleared", before);
      toApp(instance, { idbellen_sim: "destroy" });
      instance.contactId = null; // its frame may stay on screen (wiped) until another contact is shown
      instance.frame.dataset.ended = "true";
    }
    endings.delete(id);
    closedTabs.delete(id);
  }
  const previous = known;
  known = next;
  if (ENTRY === "streams") {
    if (gone.length) sendSnapshot(gone); // Streams shows the missed/rejected state before removing it
    sendSnapshot();
  } else {
    for (const id of next.keys()) {
      if (!previous.has(id) && !closedTabs.has(id) && !instanceFor(id)) openApp(id);
    }
  }
  if (selected && !known.has(selected)) selected = null;
  if (!selected) selected = [...known.keys()].find((id) => known.get(id)?.role === "agent") ?? null;
  layout();
}

function openApp(contactId: string): void {
  for (const stale of instances.filter((i) => i.contactId === null)) removeInstance(stale);
  newInstance(contactId);
  if (!selected) selected = contactId;
}

function layout(): void {
  if (ENTRY === "streams") {
    document.body.dataset.currentContact = selected ?? "";
    return;
  }
  if (instances.length === 0) newInstance(null); // the workspace with no contact: an idle panel
  const shown = (selected && instanceFor(selected)) || instances.find((i) => i.contactId === null) || instances[0];
  for (const instance of instances) {
    const visible = instance === shown;
    instance.frame.hidden = !visible;
    if (visible) instance.frame.id = "widget-frame";
    else instance.frame.removeAttribute("id");
  }
  document.body.dataset.currentContact = selected && known.has(selected) ? selected : "";
}

let rendered = "";

function button(cls: string, text: string, label: string, action: () => void): HTMLButtonElement {
  const b = document.createElement("button");
  b.type = "button";
  b.className = cls;
  b.textContent = text;
  b.setAttribute("aria-label", label);
  b.addEventListener("click", action);
  return b;
}

function act(contactId: string, action: string, extra: Record<string, string> = {}): void {
  void api("POST", `/dev/api/contacts/${encodeURIComponent(contactId)}/${action}`, { agent, ...extra })
    .then(refresh)
    .catch(() => ($("sim-error").textContent = "Die actie kan nu niet."));
}

function render(desk: Desk): void {
  const signature = JSON.stringify([
    desk.queue.map((c) => c.contact_id),
    desk.contacts.map((c) => [c.contact_id, c.state, c.role, closedTabs.has(c.contact_id)]),
    desk.others,
    desk.agents,
    selected,
  ]);
  if (signature === rendered) return;
  rendered = signature;
  $("agent-name").textContent = desk.agent;
  $("tenant-name").textContent = desk.tenant_name;
  document.body.dataset.tenant = desk.tenant;
  const choice = $("tenant-choice") as HTMLSelectElement;
  if (choice.options.length > 0 && choice.dataset.signedIn !== desk.tenant) {
    choice.value = desk.tenant; // once: afterwards it is the person's choice until they sign in again
    choice.dataset.signedIn = desk.tenant;
  }
  $("entry-name").textContent = ENTRY === "app" ? "agent-werkplek (app per gesprek)" : "Streams-CCP";
  const busy = desk.contacts.some((c) => c.role === "agent");
  $("queue").replaceChildren(
    ...desk.queue.map((c) => {
      const li = document.createElement("li");
      li.dataset.contact = c.contact_id;
      const verified = c.attributes.verified === "true";
      li.append(`Gesprek ${short(c.contact_id)} — ${verified ? "met Yivi" : "zonder Yivi"} `);
      const offer = button("offer", "Aanbieden", `Gesprek ${short(c.contact_id)} aan mij aanbieden`, () => act(c.contact_id, "offer"));
      const accept = button("accept", "Aannemen", `Gesprek ${short(c.contact_id)} aannemen`, () => act(c.contact_id, "accept"));
      offer.disabled = accept.disabled = busy;
      li.append(offer, " ", accept);
      return li;
    }),
  );
  $("queue-empty").hidden = desk.queue.length > 0;
  $("mine").replaceChildren(
    ...desk.contacts.map((c) => {
      const li = document.createElement("li");
      li.dataset.contact = c.contact_id;
      li.dataset.state = c.state;
      li.dataset.role = c.role;
      const what = c.role === "monitoring" ? "meeluisteren" : { queued: "wachtrij", offered: "gaat over", connected: "verbonden", acw: "nawerk" }[c.state];
      li.append(`Gesprek ${short(c.contact_id)} — ${what} `);
      const name = `gesprek ${short(c.contact_id)}`;
      const to = () => ({ to: ($("transfer-to") as HTMLInputElement).value.trim() });
      if (c.role === "monitoring") {
        li.append(button("unmonitor", "Stoppen", `Meeluisteren met ${name} stoppen`, () => act(c.contact_id, "unmonitor")));
      } else if (c.state === "offered") {
        li.append(
          button("accept", "Aannemen", `${name} aannemen`, () => act(c.contact_id, "accept")),
          " ",
          button("reject", "Weigeren", `${name} weigeren`, () => {
            endings.set(c.contact_id, "rejected");
            act(c.contact_id, "reject");
          }),
          " ",
          button("miss", "Laten verlopen", `${name} niet beantwoorden`, () => {
            endings.set(c.contact_id, "missed");
            act(c.contact_id, "miss");
          }),
        );
      } else if (c.state === "connected") {
        li.append(
          button("hangup", "Ophangen", `${name} beëindigen`, () => act(c.contact_id, "hangup")),
          " ",
          button("transfer", "Doorverbinden", `${name} koud doorverbinden`, () => act(c.contact_id, "transfer", to())),
          " ",
          button("consult", "Overleggen", `${name} warm doorverbinden`, () => act(c.contact_id, "consult", to())),
        );
      } else if (c.state === "acw") {
        li.append(button("complete", "Afronden", `Nawerk van ${name} afronden`, () => act(c.contact_id, "complete")));
      }
      if (ENTRY === "app") {
        li.append(" ");
        if (closedTabs.has(c.contact_id)) {
          li.append(button("open-tab", "App openen", `idbellen-app van ${name} openen`, () => reopenTab(c.contact_id)));
        } else {
          li.append(button("close-tab", "App-tab sluiten", `idbellen-app van ${name} sluiten`, () => closeTab(c.contact_id)));
        }
        li.append(" ", button("show", "Tonen", `Paneel van ${name} tonen`, () => select(c.contact_id)));
      }
      return li;
    }),
  );
  $("mine-empty").hidden = desk.contacts.length > 0;
  $("others").replaceChildren(
    ...desk.others.map((c) => {
      const li = document.createElement("li");
      li.dataset.contact = c.contact_id;
      li.append(`Gesprek ${short(c.contact_id)} van ${c.agent} `);
      li.append(button("monitor", "Meeluisteren", `Meeluisteren met gesprek ${short(c.contact_id)}`, () => act(c.contact_id, "monitor")));
      return li;
    }),
  );
  $("others-empty").hidden = desk.others.length > 0;
  $("known-agents").replaceChildren(
    ...desk.agents.filter((a) => a !== desk.agent).map((a) => Object.assign(document.createElement("option"), { value: a })),
  );
  const current = selected ? known.get(selected) : undefined;
  $("current").textContent = current ? `Verbonden: gesprek ${short(current.contact_id)}` : "Geen gesprek";
  ($("clear") as HTMLButtonElement).disabled = !current || current.role !== "agent" || current.state === "offered";
  ($("reload") as HTMLButtonElement).disabled = !current;
}

function select(contactId: string): void {
  selected = contactId;
  layout();
  if (desk) render(desk);
}

function closeTab(contactId: string): void {
  const instance = instanceFor(contactId);
  closedTabs.add(contactId);
  if (instance) {
    toApp(instance, { idbellen_sim: "destroy" }); // the app's onDestroy: the tab goes, the contact stays
    removeInstance(instance);
  }
  layout();
  if (desk) render(desk);
}

function reopenTab(contactId: string): void {
  closedTabs.delete(contactId);
  openApp(contactId);
  selected = contactId;
  layout();
  if (desk) render(desk);
}

let desk: Desk | null = null;

async function refresh(): Promise<void> {
  try {
    const q = new URLSearchParams();
    if (AGENT_PARAM) q.set("agent", AGENT_PARAM);
    if (TENANT_PARAM) q.set("tenant", TENANT_PARAM);
    const query = q.toString() ? "?" + q.toString() : "";
    desk = (await api("GET", "/dev/api/desk" + query)) as Desk;
    agent = desk.agent;
    follow(new Map(desk.contacts.map((c) => [c.contact_id, c])));
    render(desk);
    $("sim-error").textContent = "";
  } catch {
    $("sim-error").textContent = "De lokale stack antwoordt niet.";
  }
}

window.addEventListener("message", (e: MessageEvent) => {
  if (e.origin !== window.location.origin) return;
  if (streamsFrame && e.source === streamsFrame.contentWindow) {
    if ((e.data as { idbellen_sim?: string })?.idbellen_sim === "ready") sendSnapshot();
    return;
  }
  const instance = instances.find((i) => i.frame.contentWindow === e.source);
  const m = e.data as FromApp;
  if (!instance || !m || typeof m !== "object") return;
  if (m.idbellen_sim === "ready") {
    // a fresh app instance (also after a reload of its frame): the workspace calls its onCreate
    instance.created = false;
    if (instance.contactId && known.has(instance.contactId)) {
      instance.created = true;
      toApp(instance, { idbellen_sim: "create", scope: { type: "contact", contactId: instance.contactId } });
    }
  } else if (m.idbellen_sim === "request") {
    const value = answer(m);
    toApp(instance, { idbellen_sim: "reply", requestId: m.requestId, ok: value !== null, value: value ?? undefined });
  } else if (m.idbellen_sim === "fatal") {
    // the SDK reported a fatal lifecycle error: the workspace closes the app
    host.dataset.appsClosedByWorkspace = String(Number(host.dataset.appsClosedByWorkspace ?? "0") + 1);
    if (instance.contactId) closedTabs.add(instance.contactId);
    removeInstance(instance);
    layout();
  }
});

$("clear").addEventListener("click", () => {
  const current = selected ? known.get(selected) : undefined;
  if (!current) return;
  const id = current.contact_id;
  const finish = () => act(id, "complete");
  if (current.state === "connected") {
    void api("POST", `/dev/api/contacts/${encodeURIComponent(id)}/hangup`, { agent }).then(finish);
  } else {
    finish();
  }
});
$("reload").addEventListener("click", () => {
  if (ENTRY === "streams") streamsFrame?.contentWindow?.location.reload();
  else if (selected) instanceFor(selected)?.frame.contentWindow?.location.reload();
});
// a call without Yivi to this agent's municipality's number
$("call-unverified").addEventListener(
  "click",
  () => void api("POST", "/dev/api/call", { digits: "", tenant: desk?.tenant }).then(refresh),
);

// -- which municipality's agent signs in: a new sign-in at that tenant's dev IdP (page reload) ------
async function tenantPicker(): Promise<void> {
  let tenants: { id: string; display_name: string }[] = [];
  try {
    tenants = (await api("GET", "/tenants")) as { id: string; display_name: string }[];
  } catch {
    tenants = [];
  }
  if (!Array.isArray(tenants) || tenants.length < 2) return; // one municipality: nothing to choose
  const choice = $("tenant-choice") as HTMLSelectElement;
  choice.replaceChildren(
    ...tenants.map((t) => Object.assign(document.createElement("option"), { value: t.id, textContent: t.display_name })),
  );
  choice.value = desk?.tenant ?? TENANT_PARAM ?? tenants[0].id;
  if (desk) choice.dataset.signedIn = desk.tenant;
  $("tenant-pick").hidden = false;
  $("tenant-switch").addEventListener("click", () => {
    const q = new URLSearchParams({ tenant: choice.value });
    if (ENTRY === "streams") q.set("entry", "streams");
    window.location.search = q.toString(); // that tenant's dev agent; no agent name carried over
  });
}
void tenantPicker();

if (ENTRY === "streams") {
  streamsFrame = document.createElement("iframe");
  streamsFrame.id = "widget-frame";
  streamsFrame.title = "idbellen: beller-identiteit (Streams-CCP)";
  streamsFrame.src = frameUrl("sim-streams.html");
  host.append(streamsFrame);
} else {
  layout();
}
void refresh();
window.setInterval(() => void refresh(), 500);
