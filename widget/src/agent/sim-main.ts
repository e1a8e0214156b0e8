// LOCAL SIMULATION entry (make serve / browser tests only; never deployed): the widget running in a
// frame of the simulated agent workspace (widget/dev/ccp.html). It stands in for AmazonConnectApp and
// ContactClient with a postMessage bridge to the parent page, implementing the SDK's own method
// signatures (ContactApi = Pick<ContactClient, ...>) so that it cannot drift from the real packages.
import type { ContactAttributeFilter, ContactClearedHandler } from "@amazon-connect/contact";
import type { AppContext } from "@amazon-connect/app";
import { bootPanel } from "./boot";
import { ContactApi, contactIdOf, runForContact } from "./workspace";
import type { ToWidget, ToWorkspace } from "./sim-protocol";

class SimContactClient implements ContactApi {
  private next = 1;
  private readonly pending = new Map<number, (a: Record<string, string> | null) => void>();
  private readonly cleared: { handler: ContactClearedHandler; contactId?: string }[] = [];

  constructor(private readonly post: (m: ToWorkspace) => void) {}

  getAttributes(contactId: string, attributes: ContactAttributeFilter): Promise<Record<string, string>> {
    const requestId = this.next++;
    const names = attributes === "*" ? [] : attributes.map(String);
    return new Promise((resolve, reject) => {
      this.pending.set(requestId, (a) => (a ? resolve(a) : reject(new Error("contact not found"))));
      this.post({ idbellen_sim: "getAttributes", requestId, contactId, names });
    });
  }

  onCleared(handler: ContactClearedHandler, contactId?: string): void {
    this.cleared.push({ handler, contactId });
  }

  offCleared(handler: ContactClearedHandler, contactId?: string): void {
    const i = this.cleared.findIndex((c) => c.handler === handler && c.contactId === contactId);
    if (i >= 0) this.cleared.splice(i, 1);
  }

  deliver(m: ToWidget): void {
    if (m.idbellen_sim === "attributes") {
      const r = this.pending.get(m.requestId);
      this.pending.delete(m.requestId);
      if (r) r(m.attributes);
    } else if (m.idbellen_sim === "cleared") {
      for (const c of [...this.cleared]) {
        if (!c.contactId || c.contactId === m.event.contactId) void c.handler(m.event);
      }
    }
  }
}

void (async () => {
  const { panel } = await bootPanel();
  const parentWin = window.parent;
  if (parentWin === window) return; // opened on its own: stays "no call"
  const post = (m: ToWorkspace) => parentWin.postMessage(m, window.location.origin);
  const contacts = new SimContactClient(post);
  window.addEventListener("message", (e: MessageEvent) => {
    if (e.source !== parentWin || e.origin !== window.location.origin) return;
    const m = e.data as ToWidget;
    if (!m || typeof m !== "object" || typeof m.idbellen_sim !== "string") return;
    if (m.idbellen_sim === "create") {
      // what AmazonConnectApp.init's onCreate receives: event.context.scope
      const scope: AppContext["scope"] = m.scope;
      const contactId = contactIdOf(scope);
      if (contactId) void runForContact(panel, contacts, contactId);
    } else if (m.idbellen_sim === "destroy") {
      void panel.clear();
    } else {
      contacts.deliver(m);
    }
  });
  document.documentElement.dataset.simReady = "true";
  post({ idbellen_sim: "ready" });
})();
