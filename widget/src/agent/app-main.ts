// PRODUCTION entry: an Amazon Connect agent workspace third-party app with per-contact scope.
// The workspace creates one instance per contact, gives it the contact id, and destroys it when the
// contact is cleared.
import { AmazonConnectApp } from "@amazon-connect/app";
import { ContactClient } from "@amazon-connect/contact";
import { bootPanel } from "./boot";
import { contactIdOf, runForContact } from "./workspace";

void (async () => {
  const { panel } = await bootPanel();
  AmazonConnectApp.init({
    onCreate: async (event) => {
      const contactId = contactIdOf(event.context.scope);
      if (contactId) await runForContact(panel, new ContactClient(event.context.getProvider()), contactId);
    },
    onDestroy: async () => {
      await panel.clear();
    },
  });
})();
