"""The report as one self-contained HTML page in Dutch: inline CSS (allowed by its hash in the page's
own Content-Security-Policy), inline SVG charts, no script, no external resource."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from idbellen_report import catalogue as cat
from idbellen_report.charts import Bar, columns, horizontal
from idbellen_report.model import Cell, Group, Report
from idbellen_report.periods import MONTHS_NL

CSS = """
:root { color: #1f2328; background: #fff; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; line-height: 1.5;
       max-width: 58rem; margin: 0 auto; padding: 1.5rem; font-size: 1rem; }
h1 { font-size: 1.8rem; margin: 0 0 .25rem; }
h2 { font-size: 1.35rem; margin: 2.2rem 0 .5rem; border-bottom: 2px solid #1d4f91; padding-bottom: .2rem; }
h3 { font-size: 1.1rem; margin: 1.4rem 0 .4rem; }
.subtitle { font-size: 1.2rem; margin: 0 0 .8rem; }
.meta { font-size: .95rem; color: #424a53; }
.notice { border-left: 4px solid #a34700; background: #fff4e5; padding: .6rem .9rem; }
.ok { border-left: 4px solid #1a7f37; background: #eefbf1; padding: .6rem .9rem; }
.bad { border-left: 4px solid #b3261e; background: #fdecea; padding: .6rem .9rem; }
table { border-collapse: collapse; margin: .6rem 0 1rem; width: 100%; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; }
th, td { border: 1px solid #8c959f; padding: .3rem .5rem; vertical-align: top; }
thead th { background: #eaeef2; text-align: left; }
tbody th { text-align: left; font-weight: normal; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
td.n { white-space: nowrap; }
tr.total th, tr.total td { font-weight: 600; }
figure { margin: 1rem 0; }
figcaption { font-size: .95rem; color: #424a53; }
.sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
           clip: rect(0, 0, 0, 0); white-space: nowrap; border: 0; }
footer { margin-top: 3rem; font-size: .9rem; color: #424a53; }
@media (max-width: 40rem) {
  body { padding: .8rem; font-size: .95rem; }
  th, td { padding: .2rem .3rem; }
  table { font-size: .85rem; }
  thead th { hyphens: auto; overflow-wrap: anywhere; }
}
@media print {
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  figure, table { break-inside: avoid; }
  h2 { break-after: avoid; }
}
@page { size: A4; margin: 16mm 14mm; }
"""
HIDDEN = '<span aria-hidden="true">x</span><span class="sr-only">niet getoond</span>'


def _n(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def _pct(part: int | None, whole: int | None) -> str:
    if part is None or whole is None or whole <= 0:
        return ""
    return f"{round(100 * part / whole)}%"


def _value(c: Cell) -> str:
    if c.hidden:
        return HIDDEN
    if c.value is None:
        return f'<span title="{escape(c.note)}">–</span>' if c.note else "–"
    return _n(c.value)


def _table(caption: str, head: list[str], rows: Iterable[list[str]], total_rows: int = 0) -> str:
    out = [f"<table><caption>{escape(caption)}</caption><thead><tr>"]
    out += [f'<th scope="col"{" class=n" if i else ""}>{escape(h)}</th>' for i, h in enumerate(head)]
    out.append("</tr></thead><tbody>")
    rows = list(rows)
    for i, row in enumerate(rows):
        total = i >= len(rows) - total_rows
        out.append("<tr class=total>" if total else "<tr>")
        out.append(f'<th scope="row">{row[0]}</th>')
        out += [f'<td class="n">{cell}</td>' for cell in row[1:]]
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _group_rows(group: Group, with_share: bool = True) -> list[list[str]]:
    total = group.total.value
    rows = []
    for part in group.parts:
        if part.value == 0 and not part.hidden and part.key.endswith(":?"):
            continue
        share = _pct(part.value, total) if with_share else ""
        rows.append([escape(part.label), _value(part), share] if with_share else [escape(part.label), _value(part)])
    if group.merged is not None:
        label = escape(group.merged.label)
        merged_value = group.merged.value or 0
        rows.append([label, _n(merged_value), _pct(merged_value, total)] if with_share else [label, _n(merged_value)])
    rows.append(
        ["Totaal", _value(group.total), "100%" if with_share and total else ""]
        if with_share
        else ["Totaal", _value(group.total)]
    )
    return rows


def _bars(group: Group, skip_zero: bool = False) -> list[Bar]:
    bars = [Bar(p.label, p.value) for p in group.parts if not ((skip_zero or p.key.endswith(":?")) and p.value == 0)]
    if group.merged is not None:
        bars.append(Bar(group.merged.label, group.merged.value))
    return bars


def _sentence(template: str, *cells: Cell) -> str:
    if any(c.value is None for c in cells):
        return ""
    return template.format(*(_n(c.value or 0) for c in cells))


def render(report: Report, title_name: str | None = None) -> str:
    f = report.figures
    name = title_name or f.tenant
    start, end = f.month.bounds(f.zone)
    zone = ZoneInfo(f.zone)
    generated = f.generated_at.astimezone(zone).strftime("%d-%m-%Y %H:%M")
    S, A, C, V, G = report.funnel
    parts: list[str] = []
    add = parts.append

    # -- header -----------------------------------------------------------------------------------
    add(
        "<header><h1>Evaluatie ID-bellen met Yivi</h1>"
        f"<p class=subtitle>{escape(name)} · {escape(f.month.label_nl())}</p>"
    )
    add(
        f"<p class=meta>Periode: van {_date_nl(start.astimezone(zone))} tot {_date_nl(end.astimezone(zone))} "
        f"(tijdzone {escape(f.zone)}). "
        f"Gemaakt op {generated}. Bron: de metrieken die de functies zelf bijhouden (Amazon CloudWatch, "
        f"namespace <code>{cat.NAMESPACE}</code>, gemeente-id <code>{escape(f.tenant)}</code>): alleen tellingen en "
        f"tijdsduren, geen persoonsgegevens. Aantallen kleiner dan {report.k} worden niet getoond.</p>"
    )
    if not f.complete:
        add('<p class=notice role="note">Deze maand is nog niet voorbij: de cijfers zijn voorlopig.</p>')
    add("</header><main>")

    # -- summary ----------------------------------------------------------------------------------
    add('<section aria-labelledby="kort"><h2 id="kort">In het kort</h2><ul>')
    lines = [
        _sentence(
            "{} keer startte een inwoner ID-bellen op de website; {} keer deelde hij of zij de gegevens in de Yivi-app",
            S,
            A,
        )
        + (f" ({_pct(A.value, S.value)})." if A.value is not None and S.value else "."),
        _sentence("{} gesprekken kwamen binnen op het ID-nummer; {} daarvan waren geverifieerd", C, V)
        + (f" ({_pct(V.value, C.value)})." if V.value is not None and C.value else "."),
        _sentence("{} keer zag een medewerker de geverifieerde gegevens bij het gesprek.", G),
    ]
    for line in lines:
        if line.strip(".").strip():
            add(f"<li>{line}</li>")
    add(f"<li>{_promise_sentence(report)}</li></ul></section>")

    # -- funnel -----------------------------------------------------------------------------------
    add('<section aria-labelledby="trechter"><h2 id="trechter">Van start tot medewerker</h2>')
    add(
        "<p>Elke stap telt gebeurtenissen in deze maand. “Gebeld” telt alle gesprekken op het ID-nummer binnen "
        "openingstijd, ook zonder of met een verkeerde code; het kan dus groter zijn dan de stap ervoor.</p>"
    )
    funnel_bars = [
        Bar(c.label, c.value, suffix=f"({_pct(c.value, S.value)})" if c is not S else "") for c in report.funnel
    ]
    add(f"<figure>{horizontal('f-trechter', 'Van start tot medewerker: aantallen per stap', funnel_bars)}")
    add("<figcaption>Aantal per stap; tussen haakjes het deel van de gestarte sessies.</figcaption></figure>")
    # "Van vorige stap" where the step is part of the one before: all calls are not all disclosures.
    before = {A.key: S, V.key: C, G.key: V}
    rows = []
    for c in report.funnel:
        prior = before.get(c.key)
        rows.append([escape(c.label), _value(c), _pct(c.value, S.value), _pct(c.value, prior.value) if prior else ""])
    add(_table("Stappen", ["Stap", "Aantal", "Van gestart", "Van vorige stap"], rows))
    add("</section>")

    # -- drop-off ---------------------------------------------------------------------------------
    add('<section aria-labelledby="afhaken"><h2 id="afhaken">Waar haken mensen af?</h2>')
    drop_bars = [*_bars(report.app_dropoff, skip_zero=True)]
    singles = [report.no_result, report.disclosed_not_called, report.outside_hours]
    drop_bars += [Bar(c.label, c.value) for c in singles if c.value != 0]
    drop_bars += _bars(report.phone, skip_zero=True)
    if report.verified_not_shown.value != 0:
        drop_bars.append(Bar(report.verified_not_shown.label, report.verified_not_shown.value))
    add(f"<figure>{horizontal('f-afhaken', 'Redenen om af te haken, per stap', drop_bars)}")
    add(
        "<figcaption>Alle redenen met een aantal in één overzicht; de tabellen hieronder geven ze per stap, "
        "ook de redenen die niet voorkwamen.</figcaption></figure>"
    )
    add("<h3>In de Yivi-app</h3>")
    rows = _group_rows(report.app_dropoff)
    rows.insert(-1, [escape(report.no_result.label), _value(report.no_result), ""])
    add(_table("Niet gelukt in de app, naar reden", ["Reden", "Aantal", "Deel"], rows, total_rows=1))
    add(
        "<p>“Zonder uitkomst” is het verschil tussen gestart, gedeeld en niet gelukt: sessies waarvan de app "
        "geen resultaat gaf binnen de maand (ook een sessie die vlak voor de maandgrens begon telt mee).</p>"
    )
    add("<h3>Na het delen</h3>")
    add(
        _table(
            "Na het delen",
            ["Situatie", "Aantal"],
            [
                [escape(report.disclosed_not_called.label), _value(report.disclosed_not_called)],
                [escape(report.outside_hours.label), _value(report.outside_hours)],
            ],
        )
    )
    add("<h3>Aan de telefoon</h3>")
    add(
        _table(
            "Gesprekken zonder verificatie, naar reden",
            ["Reden", "Aantal", "Deel"],
            _group_rows(report.phone),
            total_rows=1,
        )
    )
    add(
        "<p>Een gesprek zonder verificatie komt gewoon in de wachtrij; de medewerker stelt de identiteit dan "
        "op de gebruikelijke manier vast.</p>"
    )
    add("<h3>In de wachtrij</h3>")
    add(
        _table(
            "Na verificatie",
            ["Situatie", "Aantal"],
            [[escape(report.verified_not_shown.label), _value(report.verified_not_shown)]],
        )
    )
    add("</section>")

    # -- per purpose --------------------------------------------------------------------------------
    add('<section aria-labelledby="onderwerp"><h2 id="onderwerp">Per onderwerp</h2>')
    add(
        "<p>Een gesprek zonder geldige code is aan geen onderwerp te koppelen: juist de code koppelt het "
        "gesprek aan een sessie. Per onderwerp staat daarom het deel van wie gegevens deelde maar daarna geen "
        "geverifieerd gesprek voerde (niet gebeld, te laat, verkeerde code, of buiten openingstijd).</p>"
    )
    purpose_bars = []
    rows = []
    for row, (_, label) in zip(report.purposes, report.purpose_labels.items(), strict=True):
        verified, not_called, disclosed = row["verified"], row["not_called"], row["disclosed"]
        share = _pct(not_called.value, disclosed.value)
        if verified.value is None or not_called.value is None:
            purpose_bars.append(Bar(label, None))
        else:
            purpose_bars.append(Bar(label, verified.value, not_called.value, f"({share} niet)" if share else ""))
        rows.append(
            [escape(label), _value(row["started"]), _value(disclosed), _value(verified), _value(row["shown"]), share]
        )
    add(
        "<figure>"
        + horizontal(
            "f-onderwerp",
            "Per onderwerp: na het delen geverifieerd gebeld of niet",
            purpose_bars,
            legend=("Geverifieerd gebeld", "Gedeeld, niet geverifieerd gebeld"),
        )
    )
    add(
        "<figcaption>Per onderwerp: gedeeld en daarna geverifieerd gebeld (eerste kleur), of niet (tweede "
        "kleur).</figcaption></figure>"
    )
    add(
        _table(
            "Per onderwerp",
            [
                "Onderwerp",
                "Gestart",
                "Gedeeld",
                "Geverifieerd gebeld",
                "Getoond aan medewerker",
                "Gedeeld, niet geverifieerd",
            ],
            rows,
        )
    )
    add("</section>")

    # -- durations --------------------------------------------------------------------------------
    add('<section aria-labelledby="tijd"><h2 id="tijd">Hoe lang duurt het?</h2>')
    for metric, title in (
        (cat.TIME_TO_DISCLOSURE, "Tijd van start tot gedeelde gegevens"),
        (cat.TIME_TO_CALL, "Tijd van delen tot het geverifieerde gesprek"),
    ):
        group = report.histograms[metric]
        add(f"<h3>{escape(title)}</h3>")
        median = report.median_bucket.get(metric)
        if median:
            add(f"<p>De mediaan (de middelste waarde) valt in de klasse <strong>{escape(median)}</strong>.</p>")
        chart_id = "f-" + metric.lower()
        add(f"<figure>{columns(chart_id, title + ': aantal per tijdsklasse', _bars(group), 'tijdsklasse')}")
        add(f"<figcaption>{escape(title)}, aantal per tijdsklasse (n = {_value(group.total)}).</figcaption></figure>")
        add(_table(title, ["Tijdsklasse", "Aantal", "Deel"], _group_rows(group), total_rows=1))
    add("</section>")

    # -- deletion -----------------------------------------------------------------------------------
    add('<section aria-labelledby="verwijderd"><h2 id="verwijderd">Hoe snel is alles verwijderd?</h2>')
    add(f'<p class="{_promise_class(report)}">{_promise_sentence(report)}</p>')
    add(f"<figure>{horizontal('f-verwijderd', 'Verwijderde sessies naar reden', _bars(report.deletions))}")
    add("<figcaption>Waarom de gegevens van een sessie werden verwijderd.</figcaption></figure>")
    add(_table("Verwijderd, naar reden", ["Reden", "Aantal", "Deel"], _group_rows(report.deletions), total_rows=1))
    age = report.histograms[cat.RECORD_AGE]
    add(
        "<figure>"
        + columns(
            "f-leeftijd",
            "Leeftijd van de gegevens bij verwijdering: aantal per klasse",
            _bars(age),
            "leeftijd bij verwijdering",
        )
    )
    add(
        "<figcaption>Hoe oud de gegevens waren toen ze werden verwijderd "
        f"(n = {_value(age.total)}).</figcaption></figure>"
    )
    add(_table("Leeftijd bij verwijdering", ["Leeftijd", "Aantal", "Deel"], _group_rows(age), total_rows=1))
    add("</section>")

    # -- what it shows -------------------------------------------------------------------------------
    add('<section aria-labelledby="betekenis"><h2 id="betekenis">Wat deze cijfers laten zien — en wat niet</h2><ul>')
    for line in _MEANING:
        add(f"<li>{line}</li>")
    add("</ul></section>")

    # -- privacy of this report ------------------------------------------------------------------------
    add('<section aria-labelledby="privacy"><h2 id="privacy">Privacy van deze rapportage</h2><ul>')
    hidden = len(report.decision.hidden)
    add(
        f"<li>Geen aantal van 1 tot en met {report.k - 1} staat in dit rapport, ook niet terug te rekenen door "
        "getoonde aantallen van elkaar af te trekken. Zo’n aantal is vervangen door "
        "“x” (niet getoond); soms is daarvoor ook een groter "
        "aantal verborgen, of zijn kleine regels samengevoegd. Een 0 wordt wel getoond: die beschrijft niemand.</li>"
    )
    add(
        f"<li>In deze maand zijn {hidden} aantallen niet getoond.</li>"
        if hidden
        else "<li>In deze maand hoefde geen aantal verborgen te worden.</li>"
    )
    add(
        "<li>Het rapport bevat geen namen, BSN’s, telefoonnummers, codes, contact-id’s of andere id’s en geen "
        "regel per gesprek: de bron bevat die niet (alleen vaste namen, tellingen en tijdsduren per maand).</li>"
    )
    add(
        "<li>Een verborgen aantal ligt altijd tussen 0 en het totaal van zijn tabel; nauwere grenzen zijn soms af "
        "te leiden. Exacte kleine aantallen niet.</li></ul></section>"
    )

    # -- method -----------------------------------------------------------------------------------------
    add('<section aria-labelledby="verantwoording"><h2 id="verantwoording">Verantwoording</h2><ul>')
    for line in _method(report):
        add(f"<li>{line}</li>")
    add("</ul></section></main>")
    add(
        "<footer><p>Gemaakt met <code>python -m idbellen_report</code> (zie docs/report.md). Dit rapport bevat alleen "
        "tellingen per maand, zonder persoonsgegevens en zonder kleine aantallen.</p></footer>"
    )
    body = "".join(parts)
    return _page(f"Evaluatie ID-bellen · {name} · {f.month.label_nl()}", body)


def _promise_sentence(report: Report) -> str:
    limit_min = report.record_limit_seconds // 60
    if report.promise_kept is None:
        return "Er zijn deze maand geen verwijderingen met een bekende leeftijd geteld."
    if report.promise_kept:
        oldest = (
            f" De oudste gegevens waren {cat.duration_nl(_round_up_minute(report.max_age_seconds or 0))} oud."
            if report.max_age_shown
            else ""
        )
        return (
            f"Belofte gehouden: alle gegevens waren binnen {limit_min} minuten verwijderd (na "
            f"{report.record_ttl_seconds // 60} minuten zijn ze onleesbaar; de opruimronde verwijdert ze daarna "
            f"binnen enkele minuten).{oldest}"
        )
    return (
        f"Let op: er zijn gegevens ouder dan {limit_min} minuten verwijderd "
        f"(oudste: {cat.duration_nl(_round_up_minute(report.max_age_seconds or 0))}). Zoek uit waarom de opruimronde "
        "niet op tijd liep; dit hoort een melding (alarm) te geven."
    )


def _promise_class(report: Report) -> str:
    if report.promise_kept is None:
        return "notice"
    return "ok" if report.promise_kept else "bad"


def _round_up_minute(seconds: float) -> float:
    return -(-seconds // 60) * 60


_MEANING = [
    "<strong>Wel</strong>: hoe vaak ID-bellen werd gebruikt, hoe ver inwoners kwamen, waarom het soms niet lukte, hoe "
    "lang de stappen duurden en dat de gegevens op tijd weg waren.",
    "<strong>Niet</strong>: wie er belde, waarover het gesprek ging of hoe het afliep. Het rapport telt "
    "gebeurtenissen, "
    "geen personen: wie twee keer start, telt twee keer.",
    "<strong>Niet</strong>: of een ongeverifieerd gesprek van iemand kwam die eerst gegevens deelde — een gesprek "
    "zonder geldige code is juist niet aan een sessie te koppelen.",
    "De stappen zijn per maand geteld, niet per sessie gevolgd: een sessie die op de laatste avond van de maand "
    "begint en na middernacht wordt afgerond, telt in twee maanden. Verschillen van enkele eenheden tussen stappen "
    "kunnen daardoor ontstaan.",
    "“Getoond aan een medewerker” telt sessies die minstens één keer getoond zijn, geteld bij hun verwijdering.",
    "Tijdsduren staan in klassen, niet als losse waarden. Een zeer zelden dubbel geteld meetpunt is mogelijk "
    "(CloudWatch levert metrieken “ten minste één keer”).",
]


def _method(report: Report) -> list[str]:
    f = report.figures
    return [
        "Bron: Amazon CloudWatch <code>GetMetricData</code>, per uur opgeteld over de maand (tijdzone "
        f"{escape(f.zone)}). Tellingen: statistiek <code>Sum</code> van de totalen (dimensies tenant en service); "
        "uitsplitsingen per onderwerp of reden uit hun eigen metriek. Tijdsklassen: <code>TC(a:b)</code> "
        "(aantal waarden groter dan a en hoogstens b); oudste gegevens: <code>Maximum</code>.",
        "Metrieken: " + ", ".join(f"<code>{m}</code>" for m in [*cat.TOTALS, *cat.HISTOGRAMS]) + " (docs/metrics.md).",
        f"Onderwerpen: {escape(', '.join(report.purpose_labels.values()) or 'geen')}. Een aantal dat niet bij een "
        "bekend onderwerp of een bekende reden hoort, staat onder “niet toe te wijzen”.",
        "CloudWatch bewaart deze cijfers 15 maanden (455 dagen). Maak het rapport daarom maandelijks en bewaar het.",
        f"Kleinste getoonde aantal: {report.k}. Bewaartermijn gegevens: {report.record_ttl_seconds // 60} minuten, "
        "plus de opruimronde "
        f"(grens in dit rapport: {report.record_limit_seconds // 60} minuten).",
    ]


def _page(title: str, body: str) -> str:
    style_hash = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
    csp = f"default-src 'none'; style-src 'sha256-{style_hash}'; img-src data:; base-uri 'none'; form-action 'none'"
    return (
        '<!doctype html><html lang="nl"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>{body}</body></html>\n"
    )


def _date_nl(moment: datetime) -> str:
    return f"{moment.day} {MONTHS_NL[moment.month - 1]} {moment.year} {moment:%H:%M}"
