// ALTERNATIVE entry: a custom CCP page with amazon-connect-streams (for instances that do not use
// the agent workspace). The page embeds the CCP (ccp_url from config) next to the panel; one panel
// serves the contacts one after another.
import "amazon-connect-streams";
import { loadConfig } from "../shared/config";
import { bootPanel } from "./boot";
import { pickAttributes } from "./panel";

void (async () => {
  const { panel } = await bootPanel();
  const raw = (await loadConfig().catch(() => ({}))) as { streams?: { ccp_url?: string } };
  const ccpUrl = raw.streams?.ccp_url;
  const container = document.getElementById("ccp");
  if (!ccpUrl || !container) return;
  connect.core.initCCP(container as HTMLDivElement, { ccpUrl, loginPopup: true, softphone: { allowFramedSoftphone: true } });
  connect.contact((contact) => {
    const contactId = contact.getContactId();
    let seen = "";
    const show = () => {
      const a = contact.getAttributes(); // null while monitoring
      const attrs = pickAttributes((n) => (a ? a[n]?.value : undefined));
      const key = `${attrs.verified}|${attrs.session_secret ? "s" : ""}`;
      if (key === seen) return; // onRefresh fires every few seconds: act on changes only
      seen = key;
      void panel.showContact(contactId, attrs);
    };
    show();
    contact.onRefresh(show);
    contact.onDestroy(() => void panel.clear(contactId));
  });
})();
