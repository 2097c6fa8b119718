"""Turns one scripts/bench run into a table: printed, and written into docs/benchmarks.md.

Reads DIR/phases.jsonl (the BENCH_RESULT lines of the measured wrk runs), DIR/run.json (what
scripts/bench knows: organizations, duration, machine, RSS, counts) and DIR/micro.txt (the
switchboard-bench output). Each organization count has its own section in the document,
replaced by the latest run of that size; text outside the sections is kept as it is.
Standard library only.
"""

import json
import re
import sys
from pathlib import Path

ROUTES = {
    "healthz": "`GET /healthz` (ceiling)",
    "webhook": "Twilio status webhook (signed, stored)",
    "initiate": "`POST /api/v1/telephony/initiate-call` (simulator)",
    "configuration": "`GET …/configuration/TWILIO_CONFIGURATION` (masked)",
}

TARGETS_NOTE = (
    "Targets (reported, not asserted): webhook ≥ 35 % of the ceiling's requests/s; cached "
    "resolution < 20 µs; p99 < 20 ms at 64 connections on every route; peak RSS < 200 MiB with "
    "100,000 organizations."
)


def ms(us):
    return f"{us / 1000:.2f} ms"


def load(directory):
    phases = {}
    for line in (directory / "phases.jsonl").read_text().splitlines():
        if line.strip():
            result = json.loads(line)
            phases[result["phase"]] = result
    run = json.loads((directory / "run.json").read_text())
    micro = []
    micro_path = directory / "micro.txt"
    if micro_path.exists():
        for line in micro_path.read_text().splitlines():
            match = re.match(r"^(.*?)\s+(\d+) ns/op", line)
            if match:
                micro.append((match.group(1).strip(), int(match.group(2))))
    return phases, run, micro


def section(phases, run, micro):
    ceiling = phases.get("healthz")
    ceiling_rps = ceiling["requests"] / (ceiling["duration_us"] / 1e6) if ceiling else None
    rows = []
    checks = []
    for phase, title in ROUTES.items():
        result = phases.get(phase)
        if not result:
            continue
        seconds = result["duration_us"] / 1e6
        rps = result["requests"] / seconds
        errors = result["errors"]
        socket = errors["connect"] + errors["read"] + errors["write"] + errors["timeout"]
        latency = result["latency_us"]
        ratio = f"{rps / ceiling_rps * 100:.1f} %" if ceiling_rps else "–"
        rows.append(
            f"| {title} | {rps:,.0f} | {ms(latency['p50'])} | {ms(latency['p99'])} | {ms(latency['p999'])} "
            f"| {errors['status']:,} / {socket:,} | {ratio} |"
        )
        checks.append((f"p99 < 20 ms: {phase}", f"{ms(latency['p99'])}", latency["p99"] < 20_000))
        if phase == "webhook" and ceiling_rps:
            checks.append(("webhook ≥ 35 % of ceiling", ratio, rps / ceiling_rps >= 0.35))
    for name, nanoseconds in micro:
        if name.startswith("cached provider resolution"):
            checks.append(("cached resolution < 20 µs", f"{nanoseconds / 1000:.2f} µs", nanoseconds < 20_000))
    peak_mib = run["peak_rss_kib"] / 1024
    if run["organizations"] >= 100_000:
        checks.append(("peak RSS < 200 MiB (100k orgs)", f"{peak_mib:.1f} MiB", peak_mib < 200))

    orgs = run["organizations"]
    out = [
        f"<!-- bench:orgs={orgs} -->",
        f"## {orgs:,} organizations — {run['date']}",
        "",
        f"Machine: {run['cores']} cores ({run['cpu']}), {run['memory_gib']:.1f} GiB memory; load average before "
        f"the run {run['load_before']}; {run['note']}",
        f"Load: wrk {run['wrk_threads']} threads × {run['connections']} connections, {run['duration']} s per route "
        f"after {run['warmup']} s of warm-up, on the same machine as the server and PostgreSQL. Server: release build, "
        f"LOG_LEVEL={run['log_level']}. Seeding {orgs:,} organizations (sealed configurations, keys): "
        f"{run['seed_seconds']:.1f} s.",
        "",
        "| route | requests/s | p50 | p99 | p99.9 | errors (non-2xx / socket) | of ceiling |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        *rows,
        "",
        f"Server peak RSS (VmHWM): **{peak_mib:.1f} MiB** (RSS at the end {run['end_rss_kib'] / 1024:.1f} MiB). "
        f"Webhook events stored: {run['webhook_events']:,}; calls placed: {run['calls_placed']:,}. "
        f"Provider cache: {run['cache']}.",
        "",
        "Micro-benchmarks (`switchboard-bench`, per operation):",
        "",
        "| operation | time |",
        "| --- | ---: |",
        *[f"| {name} | {nanoseconds / 1000:.2f} µs |" for name, nanoseconds in micro],
        "",
        "| target | measured | met |",
        "| --- | ---: | :---: |",
        *[f"| {name} | {value} | {'yes' if ok else '**no**'} |" for name, value, ok in checks],
        f"<!-- /bench:orgs={orgs} -->",
    ]
    return "\n".join(out)


def update_document(path, orgs, text):
    header = (
        "# Benchmarks\n\n"
        "Written by `scripts/bench` (see the README's Benchmarks section); each section is the latest run with that many "
        "organizations. " + TARGETS_NOTE + "\n"
    )
    document = path.read_text() if path.exists() else header
    pattern = re.compile(rf"<!-- bench:orgs={orgs} -->.*?<!-- /bench:orgs={orgs} -->", re.S)
    if pattern.search(document):
        document = pattern.sub(lambda _: text, document)
    else:
        # Keep sections in ascending order of size, after any text that precedes them.
        sections = list(re.finditer(r"<!-- bench:orgs=(\d+) -->.*?<!-- /bench:orgs=\1 -->", document, re.S))
        later = [m for m in sections if int(m.group(1)) > orgs]
        if later:
            at = later[0].start()
            document = document[:at] + text + "\n\n" + document[at:]
        else:
            document = document.rstrip("\n") + "\n\n" + text + "\n"
    path.write_text(document)


def main():
    directory = Path(sys.argv[1])
    docs = Path(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2] else None
    phases, run, micro = load(directory)
    text = section(phases, run, micro)
    print(text)
    if docs:
        update_document(docs, run["organizations"], text)
        print(f"\nbench: wrote the table to {docs}", file=sys.stderr)


if __name__ == "__main__":
    main()
