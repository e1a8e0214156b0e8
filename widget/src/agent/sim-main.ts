// LOCAL SIMULATION entry (make serve / browser tests only; never deployed): one per-contact app instance
// in a frame of the simulated agent desktop (widget/dev/ccp.html). It stands in for AmazonConnectApp and
// ContactClient with a postMessage bridge to the parent page, implementing the SDK's own method
// signatures (ContactApi = Pick<ContactClient, ...>) and running the production app's lifecycle handlers
// (workspace.ts `lifecycle`) exactly as the SDK's LifecycleManager calls them: onCreate once, and when it
// rejects, a fatal error that makes the workspace close the app.
import type {
  ContactAttributeFilter,
  ContactClearedHandler,
  ContactConnectedHandler,
  ContactMissedHandler,
  ParticipantData,
  ParticipantState,
} from "@amazon-connect/contact";
import { bootPanel } from "./boot";
import { ContactApi, lifecycle } from "./workspace";
import { simAuth } from "./sim-auth";
import type { FromApp, LifecycleTopic, ReplyValue, RequestRoute, ToApp } from "./sim-protocol";

type Handler = ContactConnectedHandler | ContactMissedHandler | ContactClearedHandler;

class SimContactClient implements ContactApi {
  private next = 1;
  private readonly pending = new Map<number, { resolve: (v: ReplyValue) => void; reject: (e: Error) => void }>();
  private readonly handlers: { topic: LifecycleTopic; handler: Handler; contactId?: string }[] = [];

  constructor(private readonly post: (m: FromApp) => void) {}

  private request<T extends ReplyValue>(route: RequestRoute, params: Record<string, unknown>): Promise<T> {
    const requestId = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(requestId, { resolve: (v) => resolve(v as T), reject });
      this.post({ idbellen_sim: "request", requestId, route, params });
    });
  }

  getAttributes(contactId: string, attributes: ContactAttributeFilter): Promise<Record<string, string>> {
    return this.request("contact/getAttributes", { contactId, attributes });
  }

  listParticipants(contactId: string): Promise<ParticipantData[]> {
    return this.request("contact/listParticipants", { contactId });
  }

  getParticipantState(participantId: string): Promise<ParticipantState> {
    return this.request("contact/getParticipantState", { participantId });
  }

  private on(topic: LifecycleTopic, handler: Handler, contactId?: string): void {
    this.handlers.push({ topic, handler, contactId });
  }

  private off(topic: LifecycleTopic, handler: Handler, contactId?: string): void {
    const i = this.handlers.findIndex((h) => h.topic === topic && h.handler === handler && h.contactId === contactId);
    if (i >= 0) this.handlers.splice(i, 1);
  }

  onConnected(handler: ContactConnectedHandler, contactId?: string): void {
    this.on("contact/connected", handler, contactId);
  }
  offConnected(handler: ContactConnectedHandler, contactId?: string): void {
    this.off("contact/connected", handler, contactId);
  }
  onMissed(handler: ContactMissedHandler, contactId?: string): void {
    this.on("contact/missed", handler, contactId);
  }
  offMissed(handler: ContactMissedHandler, contactId?: string): void {
    this.off("contact/missed", handler, contactId);
  }
  onCleared(handler: ContactClearedHandler, contactId?: string): void {
    this.on("contact/cleared", handler, contactId);
  }
  offCleared(handler: ContactClearedHandler, contactId?: string): void {
    this.off("contact/cleared", handler, contactId);
  }

  deliver(m: ToApp): void {
    if (m.idbellen_sim === "reply") {
      const p = this.pending.get(m.requestId);
      this.pending.delete(m.requestId);
      if (p && m.ok && m.value !== undefined) p.resolve(m.value);
      else if (p) p.reject(new Error("request failed"));
    } else if (m.idbellen_sim === "event") {
      for (const h of [...this.handlers]) {
        if (h.topic === m.topic && (!h.contactId || h.contactId === m.event.contactId)) void h.handler(m.event);
      }
    }
  }
}

void (async () => {
  const params = new URLSearchParams(window.location.search);
  const { panel } = await bootPanel(await simAuth(params.get("agent"), params.get("tenant")));
  const parentWin = window.parent;
  if (parentWin === window) return; // opened on its own: stays "no call"
  const post = (m: FromApp) => parentWin.postMessage(m, window.location.origin);
  const contacts = new SimContactClient(post);
  // `?fail=client`: building the ContactClient throws, as `new ContactClient(provider)` could
  const handlers = lifecycle(panel, () => {
    if (params.get("fail") === "client") throw new Error("no provider");
    return contacts;
  });
  let created = false;
  window.addEventListener("message", (e: MessageEvent) => {
    if (e.source !== parentWin || e.origin !== window.location.origin) return;
    const m = e.data as ToApp;
    if (!m || typeof m !== "object" || typeof m.idbellen_sim !== "string") return;
    if (m.idbellen_sim === "create" && !created) {
      created = true;
      // as LifecycleManager.handleCreate: a rejected onCreate is fatal, the workspace closes the app
      handlers.onCreate({ context: { scope: m.scope } }).catch(() => post({ idbellen_sim: "fatal" }));
    } else if (m.idbellen_sim === "destroy") {
      void handlers.onDestroy();
    } else {
      contacts.deliver(m);
    }
  });
  document.documentElement.dataset.simReady = "true";
  post({ idbellen_sim: "ready" });
})();
