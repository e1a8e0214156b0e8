// The custom-CCP (amazon-connect-streams) adapter's logic, written against a narrow view of the SDK's own
// `connect.Contact` type so that the real Streams contact (streams-main.ts) and the local simulation
// (sim-streams-main.ts) run exactly this code; tsc checks the real Contact against `StreamsContact`.
//
// The lifecycle as Streams 2.28.2 produces it (src/api.js, src/core.js `AgentDataProvider`,
// `contactEventGraph`):
// - `connect.contact(cb)` subscribes to ContactEvents.INIT, fired for *every* contact that appears in
//   this agent's snapshot: an incoming offer, a supervisor's monitored contact, a contact already
//   connected when the page (re)loads;
// - then one event per state change: CONNECTING/INCOMING (offer), CONNECTED, MISSED (connecting or
//   incoming → missed, rejected or error), ACW (→ ENDED: after-contact work), ENDED (leaving the active
//   states), and REFRESH after every snapshot;
// - DESTROYED when the contact leaves this agent's snapshot: after a missed or rejected offer, after a
//   transfer away, after the agent clears it — and the contact's subscriptions are dropped;
// - a supervisor's connection to a monitored contact has ConnectionType MONITORING; `getAttributes()`
//   may then hold nothing.
// What the panel does: show data only when this agent's own connection (type AGENT) is connected, or the
// contact is in after-contact work on a page that was reloaded; keep it through ACW; end this agent's
// segment (POST /agent/clear) when a contact it had accepted is destroyed — never for an offer or a
// monitored contact.
import { AgentPanel, ContactAttributes, pickAttributes } from "./panel";

// The SDK's enum values, checked by tsc against the ambient `connect` namespace (index.d.ts) without
// needing the Streams library at run time (the simulation does not load it).
const AGENT: `${connect.ConnectionType.AGENT}` = "agent";
const CONNECTED: `${connect.ContactStateType.CONNECTED}` = "connected";
const ACW: `${connect.ContactStateType.ENDED}` = "ended";

/** The part of `connect.Contact` the adapter uses. */
export interface StreamsContact {
  getContactId(): string;
  /** null (or empty) while a supervisor monitors the contact */
  getAttributes(): connect.AttributeDictionary | null;
  getState(): { readonly type: string };
  getAgentConnection(): { getType(): string } | null;
  onConnected(callback: () => void): unknown;
  onACW(callback: () => void): unknown;
  onMissed(callback: () => void): unknown;
  onRefresh(callback: () => void): unknown;
  onDestroy(callback: () => void): unknown;
}

/** Feed the panel from `connect.contact`-style subscriptions. */
export function followContacts(panel: AgentPanel, subscribe: (callback: (contact: StreamsContact) => void) => void): void {
  subscribe((contact) => {
    const contactId = contact.getContactId();
    let accepted = false;
    let secret: string | null = null;
    let seen = "";

    const mine = () => contact.getAgentConnection()?.getType() === AGENT;
    const update = () => {
      const raw = contact.getAttributes();
      const attrs: ContactAttributes = pickAttributes((n) => (raw ? raw[n]?.value : undefined));
      secret = attrs.session_secret || secret;
      const key = `${attrs.verified}|${attrs.session_secret ? "s" : ""}`;
      if (key === seen) return; // REFRESH fires every snapshot: act on changes only
      seen = key;
      void panel.showContact(contactId, attrs);
    };
    const showIfMine = () => {
      const state = contact.getState().type;
      // connected to this agent, or (a reloaded page) already in this agent's after-contact work
      if (!mine() || (state !== CONNECTED && state !== ACW)) return;
      accepted = true;
      update();
    };

    contact.onConnected(showIfMine);
    contact.onACW(() => {
      if (!accepted) showIfMine(); // a page reloaded during after-contact work; otherwise keep showing
    });
    contact.onRefresh(() => {
      if (accepted) update();
    });
    contact.onMissed(() => panel.forget(contactId)); // missed or rejected: nothing shown, nothing ended
    contact.onDestroy(() => {
      if (accepted) void panel.clear(contactId, secret);
      else panel.forget(contactId);
      secret = null;
    });
    showIfMine(); // INIT of a contact that is connected already (the page was reloaded mid-call)
  });
}
