// Messages between the LOCAL SIMULATED agent workspace (widget/dev/ccp.html) and the widget frame.
// This simulation stands in for Amazon Connect's agent workspace and the @amazon-connect SDK clients;
// its payloads reuse the SDK's own types so tsc checks them against the published packages.
import type { AppContext } from "@amazon-connect/app";
import type { ContactCleared } from "@amazon-connect/contact";

export type ToWidget =
  | { idbellen_sim: "create"; scope: NonNullable<AppContext["scope"]> }
  | { idbellen_sim: "cleared"; event: ContactCleared }
  | { idbellen_sim: "destroy" }
  | { idbellen_sim: "attributes"; requestId: number; attributes: Record<string, string> | null };

export type ToWorkspace =
  | { idbellen_sim: "ready" }
  | { idbellen_sim: "getAttributes"; requestId: number; contactId: string; names: string[] };
