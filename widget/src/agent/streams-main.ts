// ALTERNATIVE entry: a custom CCP page with amazon-connect-streams (for instances that do not use
// the agent workspace). The page embeds the CCP (ccp_url from config) next to the panel; one panel
// serves the contacts one after another. streams.ts follows each contact's lifecycle.
import "amazon-connect-streams";
import { loadConfig } from "../shared/config";
import { bootPanel } from "./boot";
import { followContacts } from "./streams";

void (async () => {
  const { panel } = await bootPanel();
  const raw = (await loadConfig().catch(() => ({}))) as { streams?: { ccp_url?: string } };
  const ccpUrl = raw.streams?.ccp_url;
  const container = document.getElementById("ccp");
  if (!ccpUrl || !container) return;
  connect.core.initCCP(container as HTMLDivElement, { ccpUrl, loginPopup: true, softphone: { allowFramedSoftphone: true } });
  // tsc checks here that the real connect.Contact satisfies StreamsContact
  followContacts(panel, (callback) => connect.contact(callback));
})();
