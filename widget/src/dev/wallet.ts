// LOCAL DEMO WALLET (make serve / browser tests only): stands in for the Yivi app on the phone.
// It "scans" a session the citizen page started, discloses clearly fake demo attributes through the
// dev stack's demo IRMA server, and then "dials" the returned tel: URL into the flow simulator.
interface OpenSession {
  ref: string;
  purpose: string;
  tenant: string; // the municipality's display name
  age_s: number;
}

const $ = (id: string) => {
  const e = document.getElementById(id);
  if (!e) throw new Error("missing #" + id);
  return e;
};

async function api(method: string, path: string, body?: unknown): Promise<unknown> {
  const r = await fetch(path, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
  });
  if (!r.ok) throw new Error("HTTP " + r.status);
  return r.status === 204 ? null : r.json();
}

let pendingDial: { digits: string; number: string } | null = null;

async function refresh(): Promise<void> {
  let sessions: OpenSession[] = [];
  try {
    sessions = ((await api("GET", "/dev/api/wallet/sessions")) as { sessions: OpenSession[] }).sessions;
    $("wallet-error").textContent = "";
  } catch {
    $("wallet-error").textContent = "De lokale stack antwoordt niet.";
  }
  const list = $("sessions");
  list.replaceChildren(
    ...sessions.map((s) => {
      const li = document.createElement("li");
      const label = document.createElement("span");
      label.textContent = `Verzoek van ${s.tenant} voor "${s.purpose}" (${s.age_s} s geleden)`;
      const yes = document.createElement("button");
      yes.type = "button";
      yes.className = "disclose";
      yes.textContent = "Gegevens delen";
      yes.addEventListener("click", () => void disclose(s.ref, false));
      const no = document.createElement("button");
      no.type = "button";
      no.className = "decline";
      no.textContent = "Weigeren";
      no.addEventListener("click", () => void disclose(s.ref, true));
      li.append(label, " ", yes, " ", no);
      return li;
    }),
  );
  $("sessions-empty").hidden = sessions.length > 0;
}

async function disclose(ref: string, decline: boolean): Promise<void> {
  const r = (await api("POST", "/dev/api/wallet/disclose", { ref, decline })) as { digits?: string; number?: string };
  const out = $("dial-out");
  if (decline || !r.digits) {
    pendingDial = null;
    out.textContent = "Geweigerd. De app belt niet.";
    ($("dial") as HTMLButtonElement).hidden = true;
  } else {
    pendingDial = { digits: r.digits, number: r.number ?? "" };
    out.textContent = `Gedeeld. De echte app belt nu ${r.number ?? ""} met de code erachter; klik op "Bellen (gesimuleerd)" om dat na te spelen.`;
    ($("dial") as HTMLButtonElement).hidden = false;
  }
  await refresh();
}

$("dial").addEventListener("click", async () => {
  if (!pendingDial) return;
  const { digits, number } = pendingDial;
  pendingDial = null;
  ($("dial") as HTMLButtonElement).hidden = true;
  await api("POST", "/dev/api/call", { digits, number }); // the number decides whose instance answers
  $("dial-out").textContent = "Gebeld: het gesprek staat in de wachtrij van de gesimuleerde agent-werkplek.";
});
void refresh();
window.setInterval(() => void refresh(), 1500);
