// LOCAL SIMULATED AGENT WORKSPACE (make serve / browser tests only; never deployed).
// It stands in for the Amazon Connect agent workspace: it lists the contacts the flow simulator
// queued, lets the "agent" accept one, hosts the per-contact widget frame (agent/sim.html), answers
// its ContactClient.getAttributes calls and reports onCleared when the agent clears the contact.
import type { ToWidget, ToWorkspace } from "../agent/sim-protocol";

interface SimContact {
  contact_id: string;
  attributes: Record<string, string>;
  state: "queued" | "connected";
}

const $ = (id: string) => {
  const e = document.getElementById(id);
  if (!e) throw new Error("missing #" + id);
  return e;
};

let contacts: SimContact[] = [];
let current: SimContact | null = null;
const frame = $("widget-frame") as HTMLIFrameElement;

function toWidget(m: ToWidget): void {
  frame.contentWindow?.postMessage(m, window.location.origin);
}

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

let rendered = "";
let instances = 0;

function render(): void {
  const list = $("queue");
  const queued = contacts.filter((c) => c.state === "queued");
  // re-render only on change: a list rebuilt every second would pull buttons from under the pointer
  const signature = JSON.stringify([queued.map((c) => c.contact_id), current?.contact_id ?? null]);
  if (signature === rendered) return;
  rendered = signature;
  list.replaceChildren(
    ...queued.map((c) => {
      const li = document.createElement("li");
      const label = document.createElement("span");
      const verified = c.attributes.verified === "true";
      label.textContent = `Gesprek ${short(c.contact_id)} — ${verified ? "met Yivi" : "zonder Yivi"}`;
      const b = document.createElement("button");
      b.type = "button";
      b.className = "accept";
      b.textContent = "Aannemen";
      b.setAttribute("aria-label", `Gesprek ${short(c.contact_id)} aannemen`);
      b.disabled = current !== null;
      b.addEventListener("click", () => void accept(c));
      li.append(label, " ", b);
      return li;
    }),
  );
  $("queue-empty").hidden = queued.length > 0;
  $("current").textContent = current ? `Verbonden: gesprek ${short(current.contact_id)}` : "Geen gesprek";
  document.body.dataset.currentContact = current ? current.contact_id : "";
  ($("clear") as HTMLButtonElement).disabled = current === null;
  ($("reload") as HTMLButtonElement).disabled = current === null;
}

async function refresh(): Promise<void> {
  try {
    const r = (await api("GET", "/dev/api/queue")) as { contacts: SimContact[] };
    contacts = r.contacts;
    if (current && !contacts.some((c) => c.contact_id === current!.contact_id)) current = null;
    $("sim-error").textContent = "";
  } catch {
    $("sim-error").textContent = "De lokale stack antwoordt niet.";
  }
  render();
}

async function accept(c: SimContact): Promise<void> {
  await api("POST", `/dev/api/contacts/${encodeURIComponent(c.contact_id)}/accept`, {});
  current = { ...c, state: "connected" };
  // per-contact app: the workspace starts a fresh app instance for every contact
  frame.src = "../agent/sim.html?instance=" + String(++instances);
  await refresh();
}

async function clearContact(): Promise<void> {
  if (!current) return;
  const c = current;
  current = null;
  toWidget({
    idbellen_sim: "cleared",
    event: { contactId: c.contact_id, initialContactId: c.contact_id, type: "voice", subtype: "connect:Telephony" },
  });
  toWidget({ idbellen_sim: "destroy" });
  // Connect's COMPLETED contact event (EventBridge → cleanup function)
  await api("POST", `/dev/api/contacts/${encodeURIComponent(c.contact_id)}/complete`, {});
  await refresh();
}

window.addEventListener("message", (e: MessageEvent) => {
  if (e.source !== frame.contentWindow || e.origin !== window.location.origin) return;
  const m = e.data as ToWorkspace;
  if (!m || typeof m !== "object") return;
  if (m.idbellen_sim === "ready" && current) {
    toWidget({ idbellen_sim: "create", scope: { type: "contact", contactId: current.contact_id } });
  } else if (m.idbellen_sim === "getAttributes") {
    const c = current && current.contact_id === m.contactId ? current : null;
    let attributes: Record<string, string> | null = null;
    if (c) {
      attributes = {};
      for (const n of m.names.length ? m.names : Object.keys(c.attributes)) {
        if (n in c.attributes) attributes[n] = c.attributes[n];
      }
    }
    toWidget({ idbellen_sim: "attributes", requestId: m.requestId, attributes });
  }
});

$("clear").addEventListener("click", () => void clearContact());
$("reload").addEventListener("click", () => frame.contentWindow?.location.reload());
$("call-unverified").addEventListener("click", () => void api("POST", "/dev/api/call", { digits: "" }).then(refresh));
void refresh();
window.setInterval(() => void refresh(), 1000);
