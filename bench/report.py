"""bench/RESULTS.md and bench/latency.png from one run's results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

PLOT = "latency.png"
LABELS = {
    "getitem": "bare GetItem (floor)",
    "batchget3": "DTMF's BatchGetItem, replayed bare",
    "transact4": "DTMF's TransactWriteItems, replayed bare",
    "dtmf": "dtmf: redeem code",
    "agent": "agent: disclosure read",
    "session": "session: POST /sessions",
    "cleanup": "cleanup: contact COMPLETED",
}


def write_plot(samples: dict[str, list[float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    order = [k for k in LABELS if samples.get(k)]
    fig, (ax_box, ax_cdf) = plt.subplots(1, 2, figsize=(13, 5.2), gridspec_kw={"width_ratios": [1.15, 1]})
    data = [samples[k] for k in order]
    ax_box.boxplot(data, vert=False, whis=(1, 99), showfliers=True, flierprops={"markersize": 2, "alpha": 0.4})
    ax_box.set_yticks(range(1, len(order) + 1), [LABELS[k] for k in order])
    ax_box.invert_yaxis()
    ax_box.set_xscale("log")
    ax_box.set_xlabel("ms per call (log scale); box = p25..p75, whiskers = p1..p99, dots beyond")
    ax_box.set_title("Warm latency, moto server over HTTP on loopback")
    ax_box.grid(axis="x", which="both", alpha=0.3)
    for k in order:
        values = sorted(samples[k])
        ys = [(i + 1) / len(values) for i in range(len(values))]
        style = "--" if k in ("getitem", "batchget3", "transact4") else "-"
        ax_cdf.plot(values, ys, style, label=LABELS[k], linewidth=1.4)
    ax_cdf.set_xscale("log")
    ax_cdf.set_xlabel("ms (log scale)")
    ax_cdf.set_ylabel("fraction of calls at or below")
    ax_cdf.set_title("Cumulative distribution (dashed: bare calls)")
    ax_cdf.axhline(0.5, color="grey", linewidth=0.6)
    ax_cdf.axhline(0.99, color="grey", linewidth=0.6)
    ax_cdf.grid(which="both", alpha=0.3)
    ax_cdf.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def results_table(results: dict[str, Any]) -> str:
    """The one table to read first: every headline number, its budget and whether it is met."""
    budgets = {b["key"]: b for b in results.get("budgets", [])}
    rows = ["| metric | value | budget | met |", "|---|---|---|---|"]

    def row(key: str, value: Any) -> None:
        b = budgets.get(key)
        met = "" if b is None else ("✅" if b["met"] else "❌")
        rows.append(f"| `{key}` | {_fmt(value)} | {b['limit'] if b else ''} | {met} |")

    for op, counts in results["api_calls"].items():
        for service in ("dynamodb", "kms", "ssm", "http"):
            row(f"api_calls.{op}.{service}", counts[service])
    for handler, ratio in results["import_ratio"].items():
        row(f"import_ratio.{handler}", ratio)
    for key, ratio in results["warm_latency_ratio"].items():
        row(f"warm_latency_ratio.{key}", ratio)
    for key in ("flows", "errors", "items_left", "flows_per_s", "baseline_ops_per_s"):
        row(f"load.{key}", results["load"][key])
    for handler, mb in results["peak_rss_mb"].items():
        row(f"peak_rss_mb.{handler}", mb)
    row("latency_detail.dtmf_vs_own_floor.p50", results["latency_detail"]["dtmf_vs_own_floor"]["p50"])
    row("cold_callback_ms", results["cold_callback_ms"])
    row("artifact_mb", results["artifact_mb"])
    return "\n".join(rows)


def write_report(results: dict[str, Any], samples: dict[str, list[float]], out_dir: Path) -> None:
    write_plot(samples, out_dir / PLOT)
    meta = results["meta"]
    imp = results["import_detail"]
    lat = results["latency_detail"]
    load = results["load"]
    tl = results["load_tenants"]
    ops = "\n".join(
        f"| {op} | {', '.join(c['ops']) or '—'} | {'yes' if c['stable_over_repeats'] else 'NO'} |"
        for op, c in results["api_calls"].items()
    )
    lat_rows = "\n".join(
        f"| {LABELS.get(k, k)} | {v['n']} | {v['p50_ms']} | {v['p90_ms']} | {v['p99_ms']} | {v['max_ms']} |"
        for k, v in lat.items()
        if k in LABELS
    )
    imp_rows = "\n".join(
        f"| {k} | {imp['median_cpu_ms'][k]} | {imp['min_cpu_ms'][k]} | "
        f"{results['import_ratio'].get(k, 1.0) if k != 'floor' else 1.0} | {imp['median_wall_ms'][k]} | "
        f"{imp['wall_ratio'].get(k, 1.0) if k != 'floor' else 1.0} | "
        f"{', '.join(imp['heavy_modules'].get(k, [])) or '—'} |"
        for k in imp["median_cpu_ms"]
    )
    cold_rows = "\n".join(
        f"| {h} | {v.get('import_cpu_ms', 0):.0f} | {v.get('first_invocation_cpu_ms', 0):.0f} | "
        f"{v.get('import_ms', 0):.0f} | {v.get('first_invocation_ms', 0):.0f} |"
        for h, v in results["rss_detail"].items()
    )
    rss_rows = "\n".join(
        f"| {h} | {v['rss_after_import_mb']:.1f} | {v['rss_mb']:.1f} | {v['invocations']} | {v['outcomes']} |"
        for h, v in results["rss_detail"].items()
    )
    cc = results["cold_callback_detail"]
    cold_text = (
        f"A fresh process answers the signed callback of a disclosed session (import, settings, GetItem "
        f"x2, KMS Decrypt, JWT check, TransactWriteItems) at the CPU share Lambda gives the session "
        f"function's {cc['memory_mb']} MB ({cc['cpu_share']} of a vCPU; method: {cc['method']}, "
        f"{cc['quota_us_per_100ms']} µs per 100 ms). Median of {cc['runs']}: **{results['cold_callback_ms']} ms** "
        f"(min {cc['min_ms']}, max {cc['max_ms']}); of that, import {cc['median_import_ms']} ms and "
        f"invocation {cc['median_invoke_ms']} ms (in-process), {cc['median_cpu_ms']} CPU ms in all. "
        f"Bytecode: {cc['bytecode']}. Heavy modules loaded: {', '.join(cc['heavy_modules']) or '—'}. "
        "The app gives up after 4.2 s; docs/performance.md has the arithmetic for Lambda's cores."
    )
    missed = [b for b in results["budgets"] if not b["met"]]
    verdict = (
        "smoke run: sizes too small for a verdict"
        if meta["smoke"]
        else "all budgets met"
        if not missed
        else f"{len(missed)} budget(s) missed: " + ", ".join(b["key"] for b in missed)
    )
    own, mine = lat["dtmf_requests_vs_getitem"], lat["dtmf_vs_own_floor"]
    made = results["artifact_detail"].get("make_build_zip_mb")
    make_build = f"; `make build`'s zip in build/: {made} MB" if made else ""
    text = f"""# Benchmark results

Generated by `make bench` ({meta["date_utc"]}, Python {meta["python"]}, {meta["machine"]}, {meta["cpus"]} CPUs,
{meta["seconds"]} s). Ratios are to a floor measured in the same run; `bench/README.md` explains how to
read every number. **Verdict: {verdict}.**

{results_table(results)}

![latency distributions]({PLOT})

## Calls per operation (warm, counted with botocore `before-call` hooks and a `requests` adapter hook)

| operation | calls | same in every repeat |
|---|---|---|
{ops}

## Warm latency (ms; {lat["getitem"]["n"]} samples each, bare calls beside each flow; failed: {lat["failed_flows"]})

| call | n | p50 | p90 | p99 | max |
|---|---|---|---|---|---|
{lat_rows}

The DTMF function sends one `BatchGetItem` and one `TransactWriteItems`. Replayed bare (captured as
the handler sent them, against a copy of the table as the handler found it), those two requests
alone take {own["p50"]}x a `GetItem` at p50 and {own["p99"]}x at p99: the least any code making them
can score on this emulator. The DTMF function takes {mine["p50"]}x its own two requests at p50 and
{mine["p99"]}x at p99 (the rest is the handler's Python: parsing, HMACs, botocore's (de)serialisation,
logging, metrics, the processing-log line). Garbage-collector pauses in the bench process while it
measured: {lat["gc"]} (the emulators' heap is frozen first; a Lambda process holds only the handler).

## Cold import (median of {imp["runs"]} fresh processes each, run round robin)

| process | CPU ms | min CPU ms | ratio (CPU) | wall ms | ratio (wall) | heavy modules loaded |
|---|---|---|---|---|---|---|
{imp_rows}

"floor" is `import boto3` + one DynamoDB client; a handler row is importing the handler module + the
DynamoDB client its first invocation builds through `idbellen.aws`. `import_ratio` is the CPU-time
ratio: importing is CPU work, and on this shared machine wall time also counts waiting for a CPU.

### The first caller's cold start (one fresh process per function, the same run)

| function | import CPU ms | first invocation CPU ms | import wall ms | first invocation wall ms |
|---|---|---|---|---|
{cold_rows}

The first invocation builds the clients, reads the settings and (DTMF, session) the hash key from
SSM; the floor above is {imp["median_cpu_ms"]["floor"]} CPU ms.

## The IRMA callback, cold (`cold_callback_ms`)

{cold_text}

## Load

{load["flows"]} whole flows (create → disclose → DTMF → agent read → COMPLETED) on {load["threads"]} threads:
{load["flows_per_s"]} flows/s, {load["errors"]} errors, {load["items_left"]} items left; the same server does
{load["baseline_ops_per_s"]} bare `PutItem`+`GetItem` per second on as many threads
(a flow is ~20 AWS calls plus 3 IRMA requests, so ≈ {round(load["baseline_ops_per_s"] / 20, 1)} flows/s would be the
server's floor with nothing else running in the process). DynamoDB attempts botocore retried:
{load.get("dynamodb_retries") or "none"}.

Two municipalities on one deployment: {tl["flows"]} whole flows round-robin over {tl["tenants"]} tenants
({tl["flows_per_tenant"]}), each with its own citizen page, number, Connect instance and agent: {tl["flows_per_s"]}
flows/s, {tl["errors"]} errors, {tl["items_left"]} items left.

## Memory (fresh process per function, MB peak RSS)

| function | after import | after invocations | invocations | outcomes |
|---|---|---|---|---|
{rss_rows}

## Deployable bundle

{results["artifact_detail"]["artifact_mb"]} MB zipped, {results["artifact_detail"]["artifact_unzipped_mb"]} MB unzipped
({results["artifact_detail"]["note"]}){make_build}.
"""
    (out_dir / "RESULTS.md").write_text(text)
