// LOCAL SIMULATION entry (make serve / browser tests only; never deployed): the Streams CCP variant of the
// panel in a frame of the simulated agent desktop (widget/dev/ccp.html). It stands in for the Streams
// library: the parent page sends the agent's contact snapshot, and this page turns snapshot changes into
// contact events the way Streams 2.28.2 does (src/core.js AgentDataProvider.updateAgentData and
// contactEventGraph; src/api.js `connect.contact` = subscribe to ContactEvents.INIT):
// - a contact new in the snapshot: INIT (connect.contact callbacks), then the events of INIT → its state;
// - a contact whose state changed: the graph's events for old → new state, then REFRESH;
// - a contact gone from the snapshot: ENDED (if not fired yet), DESTROYED, and its subscriptions dropped.
// streams.ts — the same code the production Streams page runs — subscribes to those events.
import { bootPanel } from "./boot";
import { simAuth } from "./sim-auth";
import { followContacts, StreamsContact } from "./streams";
import type { FromStreams, StreamsContactData, StreamsState, ToStreams } from "./sim-protocol";

type EventName = `${connect.ContactEvents}`;
type State = StreamsState | `${connect.ContactStateType.INIT}`;

const ACTIVE: ReadonlySet<State> = new Set<State>(["connecting", "connected"]); // CONTACT_ACTIVE_STATES ∩ ours

/** The events Streams fires for a contact going from `before` to `after` (core.js contactEventGraph). */
export function eventsFor(before: State, after: State): EventName[] {
  if (before === after) return [];
  const out: EventName[] = [];
  if (after === "connecting") out.push("connecting");
  if (after === "connected") out.push("connected");
  if ((before === "connecting" || before === "init") && (after === "missed" || after === "rejected")) {
    out.push("missed");
  }
  if (after === "ended") out.push("acw");
  if (ACTIVE.has(before) && !ACTIVE.has(after)) out.push("ended");
  return out;
}

class SimContact implements StreamsContact {
  private readonly subs = new Map<EventName, (() => void)[]>();
  constructor(public data: StreamsContactData) {}

  getContactId(): string {
    return this.data.contactId;
  }
  getAttributes(): connect.AttributeDictionary | null {
    return this.data.attributes;
  }
  getState(): { readonly type: string } {
    return { type: this.data.state };
  }
  getAgentConnection(): { getType(): string } {
    const type = this.data.connection;
    return { getType: () => type };
  }
  private on(name: EventName, callback: () => void): { unsubscribe: () => void } {
    const list = this.subs.get(name) ?? [];
    list.push(callback);
    this.subs.set(name, list);
    return { unsubscribe: () => this.subs.set(name, (this.subs.get(name) ?? []).filter((c) => c !== callback)) };
  }
  onConnected(callback: () => void): unknown {
    return this.on("connected", callback);
  }
  onACW(callback: () => void): unknown {
    return this.on("acw", callback);
  }
  onMissed(callback: () => void): unknown {
    return this.on("missed", callback);
  }
  onRefresh(callback: () => void): unknown {
    return this.on("refresh", callback);
  }
  onDestroy(callback: () => void): unknown {
    return this.on("destroyed", callback);
  }
  fire(name: EventName): void {
    for (const callback of [...(this.subs.get(name) ?? [])]) callback();
  }
  dropSubscriptions(): void {
    this.subs.clear(); // _unsubAllContactEventsForContact
  }
}

class SimStreams {
  private readonly contacts = new Map<string, SimContact>();
  private readonly ended = new Set<string>(); // endedEventTracker: ENDED fired already
  private readonly initCallbacks: ((contact: StreamsContact) => void)[] = [];

  contact(callback: (contact: StreamsContact) => void): void {
    this.initCallbacks.push(callback);
  }

  update(snapshot: StreamsContactData[]): void {
    const next = new Map(snapshot.map((c) => [c.contactId, c]));
    for (const [id, contact] of [...this.contacts]) {
      if (next.has(id)) continue;
      if (!this.ended.has(id)) contact.fire("ended");
      contact.fire("destroyed");
      contact.dropSubscriptions();
      this.contacts.delete(id);
      this.ended.delete(id);
    }
    for (const data of snapshot) {
      const known = this.contacts.get(data.contactId);
      if (!known) {
        const contact = new SimContact(data);
        this.contacts.set(data.contactId, contact);
        for (const callback of this.initCallbacks) callback(contact);
        this.fireUpdate(contact, "init", data.state);
      } else {
        const before = known.data.state;
        known.data = data;
        this.fireUpdate(known, before, data.state);
      }
    }
  }

  private fireUpdate(contact: SimContact, before: State, after: State): void {
    for (const name of eventsFor(before, after)) {
      if (name === "ended") this.ended.add(contact.getContactId());
      contact.fire(name);
    }
    contact.fire("refresh");
  }
}

void (async () => {
  const params = new URLSearchParams(window.location.search);
  const { panel } = await bootPanel(await simAuth(params.get("agent"), params.get("tenant")));
  const parentWin = window.parent;
  if (parentWin === window) return;
  const streams = new SimStreams();
  followContacts(panel, (callback) => streams.contact(callback));
  window.addEventListener("message", (e: MessageEvent) => {
    if (e.source !== parentWin || e.origin !== window.location.origin) return;
    const m = e.data as ToStreams;
    if (m && typeof m === "object" && m.idbellen_sim === "snapshot") streams.update(m.contacts);
  });
  document.documentElement.dataset.simReady = "true";
  const ready: FromStreams = { idbellen_sim: "ready" };
  parentWin.postMessage(ready, window.location.origin);
})();
