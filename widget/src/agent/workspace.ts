// The per-contact agent workspace app logic, written against the SDK's own types so that the real
// ContactClient and the local simulation are interchangeable (tsc checks both against the package).
import type { ContactClient } from "@amazon-connect/contact";
import type { AppContext } from "@amazon-connect/app";
import { AgentPanel, CONTACT_ATTRIBUTE_NAMES, pickAttributes } from "./panel";

/** The part of `ContactClient` the widget uses. */
export type ContactApi = Pick<ContactClient, "getAttributes" | "onCleared" | "offCleared">;

/** The contact a per-contact app instance was created for (null when opened outside a contact). */
export function contactIdOf(scope: AppContext["scope"]): string | null {
  return scope && scope.type === "contact" ? scope.contactId : null;
}

/** Shows the contact, and wipes it when the workspace reports it cleared. Returns an unsubscribe. */
export async function runForContact(panel: AgentPanel, contacts: ContactApi, contactId: string): Promise<() => void> {
  const onCleared = async () => {
    await panel.clear(contactId);
  };
  contacts.onCleared(onCleared, contactId);
  let attrs: Record<string, string>;
  try {
    attrs = await contacts.getAttributes(contactId, [...CONTACT_ATTRIBUTE_NAMES]);
  } catch {
    panel.contactError(contactId);
    return () => contacts.offCleared(onCleared, contactId);
  }
  await panel.showContact(
    contactId,
    pickAttributes((n) => attrs[n]),
  );
  return () => contacts.offCleared(onCleared, contactId);
}
