// The per-contact agent workspace app, written against the SDK's own types so that the real clients
// (app-main.ts) and the local simulation (sim-main.ts) run exactly this code; tsc checks both.
//
// The lifecycle as the agent workspace produces it (@amazon-connect/app 1.0.11 `lib/lifecycle/*`,
// @amazon-connect/contact 1.0.12 `lib/contact-client.d.ts`, `lib/topic-keys.d.ts`):
// - the workspace calls onCreate once per app instance, with `event.context.scope` = {type: "contact",
//   contactId}; an instance can exist while the contact is only offered, and a new instance is created
//   when the agent reopens the app's tab mid-call. If onCreate throws or rejects, the SDK sends a fatal
//   error and the workspace closes the app (LifecycleManager.handleLifecycleChange, isFatal=true) — so
//   onCreate here never throws and never waits for the network;
// - ContactClient.onConnected (topic "contact/connected") when the contact connects to this agent;
//   onMissed ("contact/missed") for a missed or rejected offer; onStartingAcw ("contact/acw") when the
//   call ends and after-contact work starts; onCleared ("contact/cleared") when the contact leaves this
//   agent — after-contact work done, *and* after a missed offer;
// - the app's onDestroy when the instance goes: the contact was cleared, or the agent closed the tab.
// What the panel does: show data only once this agent's own (not a monitoring) participant is connected;
// keep it through after-contact work; end this agent's segment (POST /agent/clear) on onCleared of a
// contact it had accepted — never for an offer, a monitored contact or a closed tab.
import { ParticipantStateType } from "@amazon-connect/contact";
import type { ContactClient } from "@amazon-connect/contact";
import type { AppContext } from "@amazon-connect/app";
import { AgentPanel, CONTACT_ATTRIBUTE_NAMES, pickAttributes } from "./panel";

/** The part of `ContactClient` the app uses. */
export type ContactApi = Pick<
  ContactClient,
  | "getAttributes"
  | "listParticipants"
  | "getParticipantState"
  | "onConnected"
  | "offConnected"
  | "onMissed"
  | "offMissed"
  | "onCleared"
  | "offCleared"
>;

/** What the app reads of the workspace's create event (the real one is an AppCreateEvent). */
export interface CreateEventLike {
  context: { scope?: AppContext["scope"] };
}

/** The contact a per-contact app instance was created for (null when opened outside a contact). */
export function contactIdOf(scope: AppContext["scope"]): string | null {
  return scope && scope.type === "contact" ? scope.contactId : null;
}

const CONNECTED_STATES: ReadonlySet<string> = new Set([ParticipantStateType.Connected, ParticipantStateType.Hold]);

/** Is this agent's own participant on the contact an agent (not a supervisor's monitoring) and connected? */
export async function connectedAsAgent(contacts: ContactApi, contactId: string): Promise<boolean> {
  const participants = await contacts.listParticipants(contactId);
  const self = participants.find((p) => p.isSelf);
  if (!self || self.type.value !== "agent") return false;
  const state = await contacts.getParticipantState(self.participantId);
  return CONNECTED_STATES.has(state.value);
}

/** One app instance: follows its contact and feeds the panel. */
export class WorkspaceApp {
  private contactId: string | null = null;
  private accepted = false;
  private unsubscribe: () => void = () => undefined;

  constructor(private readonly panel: AgentPanel) {}

  /** onCreate: subscribe and look at the contact's current state. Never throws, never awaits. */
  create(scope: AppContext["scope"], contacts: ContactApi): void {
    const contactId = contactIdOf(scope);
    if (!contactId) return;
    this.contactId = contactId;
    // SubscriptionHandler<T> returns a Promise; the SDK does not wait for it to show the next event
    const onConnected = async () => this.showIfMine(contacts, contactId);
    const onMissed = async () => this.panel.forget(contactId);
    const onCleared = async () => {
      this.unsubscribe();
      if (this.accepted) await this.panel.clear(contactId);
      else this.panel.forget(contactId);
    };
    contacts.onConnected(onConnected, contactId);
    contacts.onMissed(onMissed, contactId);
    contacts.onCleared(onCleared, contactId);
    this.unsubscribe = () => {
      contacts.offConnected(onConnected, contactId);
      contacts.offMissed(onMissed, contactId);
      contacts.offCleared(onCleared, contactId);
      this.unsubscribe = () => undefined;
    };
    // the contact may be connected already: the agent reopened the app's tab mid-call
    void this.showIfMine(contacts, contactId);
  }

  /** onDestroy: the instance goes (the tab was closed, or the contact was cleared). Local only. */
  destroy(): void {
    this.unsubscribe();
    if (this.contactId) this.panel.forget(this.contactId);
  }

  private async showIfMine(contacts: ContactApi, contactId: string): Promise<void> {
    let attrs: Record<string, string>;
    try {
      if (!(await connectedAsAgent(contacts, contactId))) return; // an offer, or a supervisor monitoring
      this.accepted = true;
      attrs = await contacts.getAttributes(contactId, [...CONTACT_ATTRIBUTE_NAMES]);
    } catch {
      this.panel.contactError(contactId);
      return;
    }
    await this.panel.showContact(
      contactId,
      pickAttributes((n) => attrs[n]),
    );
  }
}

/**
 * The app's lifecycle handlers for `AmazonConnectApp.init` (and the simulation). `clientFor` builds the
 * ContactClient from the create event; anything it or the app throws is caught here, shown as a contact
 * error, and never reaches the SDK (which would close the app).
 */
export function lifecycle<E extends CreateEventLike>(
  panel: AgentPanel,
  clientFor: (event: E) => ContactApi,
): { onCreate: (event: E) => Promise<void>; onDestroy: () => Promise<void> } {
  const app = new WorkspaceApp(panel);
  return {
    onCreate: async (event: E) => {
      try {
        app.create(event.context.scope, clientFor(event));
      } catch {
        panel.contactError(contactIdOf(event.context.scope) ?? "");
      }
    },
    onDestroy: async () => {
      try {
        app.destroy();
      } catch {
        // the instance is going anyway; nothing is left to protect
      }
    },
  };
}
