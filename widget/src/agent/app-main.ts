// PRODUCTION entry: an Amazon Connect agent workspace third-party app with per-contact scope.
// The workspace creates one instance per contact (and a new one when the agent reopens the app's tab);
// workspace.ts follows the contact's lifecycle. Nothing here may throw into the SDK.
import { AmazonConnectApp } from "@amazon-connect/app";
import type { AppCreateEvent } from "@amazon-connect/app";
import { ContactClient } from "@amazon-connect/contact";
import { bootPanel } from "./boot";
import { lifecycle } from "./workspace";

void (async () => {
  const { panel } = await bootPanel();
  const handlers = lifecycle(panel, (event: AppCreateEvent) => new ContactClient(event.context.getProvider()));
  AmazonConnectApp.init({ onCreate: handlers.onCreate, onDestroy: handlers.onDestroy });
})();
