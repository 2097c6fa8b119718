"""Load generators and checks of scripts/faults (Python standard library only).

  faults.py webhooks --base URL --file webhooks.tsv --out events.jsonl --stop-file PATH [--limit N]
      Sends the signed webhooks of webhooks.tsv (each once, in order; the first N only with --limit)
      from --concurrency threads at about --rate requests/s until PATH exists or the lines run out;
      records every request as one JSON line. (scripts/bench uses it to warm the provider cache.)
      --offset N skips the first N lines (each part of a run sends webhooks of its own).
  faults.py analyze-webhooks --events events.jsonl --timeline timeline.json --stored stored.txt --alive 0|1
      Checks the PostgreSQL outage run; prints the counts and timings; exit 1 when a check fails.
  faults.py calls --base URL --organizations organizations.tsv --from NUMBER --out calls.jsonl --stop-file PATH
      Sends initiate-call (each with its own Idempotency-Key) at about --rate requests/s until PATH
      exists; records every request as one JSON line.
  faults.py analyze-crash --events events.jsonl --calls calls.jsonl --timeline timeline.json --stored stored.txt
          --alive 0|1 --initiating N --initiating-after-sweep N --swept N --waited S --stale-seconds S
          [--server-killed]
      Checks a crash run (the server SIGKILLed and restarted, or PostgreSQL stopped immediately and
      restarted): every acknowledged webhook stored, a 2xx soon after recovery, the recovery time,
      initiate-call placing calls before and after, no call left initiating after the sweeper ran.
  faults.py provider --base URL --simulator URL --organizations organizations.tsv --from NUMBER --timeout-ms N
      Makes the simulator stall and then answer 500, checks initiate-call answers 502 within the
      provider timeout and leaves no call claiming to be placed; exit 1 when a check fails, 3 when
      the simulator has no fault-injection route.
"""

import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse

# A request not answered within this many seconds counts as hung.
HUNG_AFTER = 5.0
# The server must answer 2xx again within this many seconds of PostgreSQL accepting connections.
RECOVERY_LIMIT = 5.0


def connection(base, timeout):
    parsed = urllib.parse.urlsplit(base)
    return http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=timeout)


def send_webhooks(args):
    lines = open(args.file).read().splitlines()[args.offset:]
    if args.limit:
        lines = lines[:args.limit]
    source = iter(lines)
    lock = threading.Lock()
    out = open(args.out, "w")
    interval = args.concurrency / args.rate

    def next_line():
        with lock:
            return next(source, None)

    def worker():
        conn = connection(args.base, args.timeout)
        while not os.path.exists(args.stop_file):
            line = next_line()
            if line is None:
                return
            path, body, signature = line.split("\t")
            sid = urllib.parse.parse_qs(body)["CallSid"][0]
            started = time.time()
            record = {"sid": sid, "start": started}
            try:
                conn.request("POST", path, body=body, headers={
                    "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})
                response = conn.getresponse()
                response.read()
                record["status"] = response.status
            except Exception as error:  # every failure is recorded, then the connection is renewed
                record["error"] = type(error).__name__
                conn.close()
                conn = connection(args.base, args.timeout)
            record["end"] = time.time()
            with lock:
                out.write(json.dumps(record) + "\n")
            pause = interval - (record["end"] - started)
            if pause > 0:
                time.sleep(pause)

    threads = [threading.Thread(target=worker) for _ in range(args.concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.close()


def analyze_webhooks(args):
    events = [json.loads(line) for line in open(args.events) if line.strip()]
    timeline = json.load(open(args.timeline))
    stored = set(line.strip() for line in open(args.stored) if line.strip())
    down, back = timeline["stop_begin"], timeline["started"]
    checks = []

    def latency(event):
        return event["end"] - event["start"]

    hung = [e for e in events if "error" in e or latency(e) > HUNG_AFTER]
    during = [e for e in events if e["start"] >= timeline["stopped"] and e["end"] <= timeline["start_begin"]]
    statuses = {}
    for event in during:
        key = str(event.get("status", event.get("error")))
        statuses[key] = statuses.get(key, 0) + 1
    max_outage = max((latency(e) for e in during), default=0.0)
    acknowledged = {e["sid"] for e in events if 200 <= e.get("status", 0) < 300}
    first_ok = min((e["end"] for e in events if e["start"] >= back and 200 <= e.get("status", 0) < 300), default=None)
    missing = acknowledged - stored

    print(f"requests sent: {len(events)} ({len(acknowledged)} acknowledged 2xx)")
    print(f"PostgreSQL stopped for {timeline['start_begin'] - timeline['stopped']:.1f} s "
          f"(stop took {timeline['stopped'] - timeline['stop_begin']:.1f} s, start took {back - timeline['start_begin']:.1f} s)")
    print(f"answers while it was down: {len(during)}, by status {statuses}; "
          f"latency max {max_outage * 1000:.0f} ms, "
          f"mean {sum(latency(e) for e in during) / max(len(during), 1) * 1000:.0f} ms")
    print(f"slowest answer of the whole run: {max((latency(e) for e in events), default=0) * 1000:.0f} ms; "
          f"hung (> {HUNG_AFTER:.0f} s) or unanswered: {len(hung)}")
    if first_ok is not None:
        print(f"first 2xx after PostgreSQL accepted connections: {first_ok - back:.2f} s "
              f"({first_ok - timeline['start_begin']:.2f} s after the restart began)")
    else:
        print("no 2xx after PostgreSQL came back")
    print(f"acknowledged webhooks: {len(acknowledged)}; stored (webhook_events): {len(stored)}; "
          f"acknowledged but not stored: {len(missing)}; stored but not acknowledged: {len(stored - acknowledged)}")

    checks.append(("the server process is still alive", args.alive == "1"))
    checks.append(("every request answered within 5 s (no hung or dropped requests)", not hung))
    checks.append(("requests were answered while PostgreSQL was down", len(during) > 0))
    checks.append(("every answer while it was down is a 503", set(statuses) <= {"503"}))
    checks.append((f"a 2xx within {RECOVERY_LIMIT:.0f} s of PostgreSQL being back",
                   first_ok is not None and first_ok - back <= RECOVERY_LIMIT))
    checks.append(("every acknowledged webhook is stored", not missing))
    return report(checks)


def send_calls(args):
    organizations = [line.split("\t") for line in open(args.organizations).read().splitlines()]
    _, key = organizations[args.organization]
    lock = threading.Lock()
    out = open(args.out, "w")
    interval = args.concurrency / args.rate
    counter = iter(range(10**9))

    def worker():
        while not os.path.exists(args.stop_file):
            with lock:
                number = next(counter)
            idempotency = f"crash-{os.getpid()}-{number}"
            started = time.time()
            record = {"key": idempotency, "start": started}
            try:
                status, body, _ = post_json(args.base, "/api/v1/telephony/initiate-call",
                                            {"to_number": "+14155561234", "from_number": args.from_number},
                                            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": idempotency},
                                            timeout=args.timeout)
                record["status"] = status
            except Exception as error:
                record["error"] = type(error).__name__
            record["end"] = time.time()
            with lock:
                out.write(json.dumps(record) + "\n")
            pause = interval - (record["end"] - started)
            if pause > 0:
                time.sleep(pause)

    threads = [threading.Thread(target=worker) for _ in range(args.concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.close()


def analyze_crash(args):
    events = [json.loads(line) for line in open(args.events) if line.strip()]
    calls = [json.loads(line) for line in open(args.calls) if line.strip()]
    timeline = json.load(open(args.timeline))
    stored_all = set(line.strip() for line in open(args.stored) if line.strip())
    down, back = timeline["down"], timeline["back"]
    checks = []

    def latency(event):
        return event["end"] - event["start"]

    def ok(event):
        return 200 <= event.get("status", 0) < 300

    sent = {e["sid"] for e in events}
    acknowledged = {e["sid"] for e in events if ok(e)}
    stored = stored_all & sent
    missing = acknowledged - stored
    outage = [e for e in events if e["start"] >= down and e["end"] <= timeline["restart_begin"]]
    outcomes = {}
    for event in outage:
        key = str(event.get("status", event.get("error")))
        outcomes[key] = outcomes.get(key, 0) + 1
    first_ok = min((e["end"] for e in events if e["start"] >= back and ok(e)), default=None)
    hung = [e for e in events + calls if latency(e) > HUNG_AFTER]
    call_outcomes = {}
    for call in calls:
        key = str(call.get("status", call.get("error")))
        call_outcomes[key] = call_outcomes.get(key, 0) + 1

    print(f"webhooks sent: {len(events)} requests for {len(sent)} calls; acknowledged 2xx: {len(acknowledged)}; "
          f"stored (webhook_events): {len(stored)}; acknowledged but not stored: {len(missing)}; "
          f"stored but not acknowledged: {len(stored - acknowledged)}")
    print(f"initiate-calls sent: {len(calls)}, by outcome {call_outcomes}")
    print(f"down for {timeline['restart_begin'] - down:.1f} s; answers meanwhile by outcome {outcomes}")
    print(f"recovery: {back - timeline['restart_begin']:.2f} s from the restart to "
          f"{'the server answering /readyz' if args.server_killed else 'PostgreSQL accepting connections'}"
          + (f"; first acknowledged webhook {first_ok - back:.2f} s after that "
             f"({first_ok - down:.2f} s after the crash)" if first_ok is not None else "; no 2xx afterwards"))
    print(f"calls left initiating after the load: {args.initiating}; after the sweeper ran "
          f"(waited {args.waited} s, stale after {args.stale_seconds} s): {args.initiating_after_sweep}; "
          f"marked failed/unconfirmed by the sweeper meanwhile: {args.swept}")
    print(f"slowest answer: {max((latency(e) for e in events + calls), default=0) * 1000:.0f} ms; "
          f"over {HUNG_AFTER:.0f} s: {len(hung)}")

    checks.append(("the server process is alive at the end", args.alive == "1"))
    checks.append(("every acknowledged webhook is stored (acknowledged = stored ∩ acknowledged)", not missing))
    checks.append((f"a 2xx within {RECOVERY_LIMIT:.0f} s of recovery", first_ok is not None and first_ok - back <= RECOVERY_LIMIT))
    checks.append((f"no request waited more than {HUNG_AFTER:.0f} s", not hung))
    placed_before = any(call.get("status") == 201 and call["end"] <= down for call in calls)
    placed_after = any(call.get("status") == 201 and call["start"] >= back for call in calls)
    checks.append(("initiate-call placed calls (201) before the crash and after recovery", placed_before and placed_after))
    checks.append(("no call left initiating after the sweeper ran", args.initiating_after_sweep == 0))
    if not args.server_killed:
        checks.append(("every webhook answer while PostgreSQL was down is a 503",
                       set(outcomes) <= {"503"}))
    return report(checks)


def report(checks):
    failed = 0
    for name, ok in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {name}")
        failed += not ok
    return 1 if failed else 0


def post_json(base, path, document, headers=None, timeout=30):
    conn = connection(base, timeout)
    started = time.monotonic()
    try:
        conn.request("POST", path, body=json.dumps(document),
                     headers={"Content-Type": "application/json", **(headers or {})})
        response = conn.getresponse()
        body = response.read().decode(errors="replace")
        return response.status, body, time.monotonic() - started
    finally:
        conn.close()


def psql(sql):
    return subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", os.environ["SWITCHBOARD_DATABASE_URL"],
                           "-c", sql], check=True, capture_output=True, text=True).stdout.strip()


def provider_faults(args):
    organizations = [line.split("\t") for line in open(args.organizations).read().splitlines()]
    (healthy_org, healthy_key), (faulty_org, faulty_key) = organizations[0], organizations[1]
    limit = args.timeout_ms / 1000 + 1.0
    checks = []

    def set_fault(name):
        status, body, _ = post_json(args.simulator, "/_sim/settings", {"api_fault": name})
        return status

    status = set_fault("none")
    if status == 404:
        print("the simulator has no POST /_sim/settings (the api_fault setting is not merged yet): provider faults NOT RUN")
        return 3
    if not 200 <= status < 300:
        print(f"the simulator refused POST /_sim/settings with {status}")
        return 1

    def initiate(key, idempotency):
        return post_json(args.base, "/api/v1/telephony/initiate-call",
                         {"to_number": "+14155561234", "from_number": args.from_number},
                         headers={"Authorization": f"Bearer {key}", "Idempotency-Key": idempotency})

    status, body, seconds = initiate(healthy_key, f"healthy-{time.time()}")
    print(f"without a fault: {status} in {seconds * 1000:.0f} ms")
    checks.append(("a call is placed when the simulator is healthy (201)", status == 201))
    try:
        for fault in ("stall", "server_error"):
            if not 200 <= set_fault(fault) < 300:
                checks.append((f"the simulator accepts api_fault {fault}", False))
                continue
            for attempt in range(3):
                status, body, seconds = initiate(faulty_key, f"{fault}-{attempt}-{time.time()}")
                code = ""
                try:
                    code = json.loads(body)["error"]["code"]
                except (ValueError, KeyError, TypeError):
                    pass
                print(f"api_fault {fault}, attempt {attempt + 1}: {status} {code} in {seconds * 1000:.0f} ms")
                checks.append((f"{fault} #{attempt + 1}: 502 within the provider timeout "
                               f"({args.timeout_ms} ms + 1 s)", status == 502 and seconds <= limit))
    finally:
        set_fault("none")
    # Only the attempts above (their Idempotency-Keys): bench-seed gives every organization placed
    # calls of its own, the ones its signed webhooks report on.
    claiming, total = psql(
        "SELECT count(*) FILTER (WHERE provider_call_id IS NOT NULL OR status <> 'failed'), count(*) "
        f"FROM calls WHERE organization_id = '{faulty_org}' "
        "AND (idempotency_key LIKE 'stall-%' OR idempotency_key LIKE 'server\\_error-%')").split("|")
    print(f"calls rows of the failed attempts: {total}; claiming a placed call: {claiming}")
    checks.append(("no call row claims a call was placed (provider_call_id set or status other than failed)",
                   claiming == "0"))
    return report(checks)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    webhooks = commands.add_parser("webhooks")
    webhooks.add_argument("--base", required=True)
    webhooks.add_argument("--file", required=True)
    webhooks.add_argument("--out", required=True)
    webhooks.add_argument("--stop-file", required=True)
    webhooks.add_argument("--concurrency", type=int, default=4)
    webhooks.add_argument("--rate", type=float, default=200)
    webhooks.add_argument("--timeout", type=float, default=15)
    webhooks.add_argument("--limit", type=int, default=0, help="send only the first LIMIT lines")
    webhooks.add_argument("--offset", type=int, default=0, help="skip the first OFFSET lines")
    calls = commands.add_parser("calls")
    calls.add_argument("--base", required=True)
    calls.add_argument("--organizations", required=True)
    calls.add_argument("--organization", type=int, default=2, help="line of organizations.tsv to call for")
    calls.add_argument("--from", dest="from_number", required=True)
    calls.add_argument("--out", required=True)
    calls.add_argument("--stop-file", required=True)
    calls.add_argument("--concurrency", type=int, default=2)
    calls.add_argument("--rate", type=float, default=10)
    calls.add_argument("--timeout", type=float, default=15)
    crash = commands.add_parser("analyze-crash")
    crash.add_argument("--events", required=True)
    crash.add_argument("--calls", required=True)
    crash.add_argument("--timeline", required=True)
    crash.add_argument("--stored", required=True)
    crash.add_argument("--alive", required=True)
    crash.add_argument("--initiating", type=int, required=True)
    crash.add_argument("--initiating-after-sweep", type=int, required=True)
    crash.add_argument("--swept", type=int, required=True)
    crash.add_argument("--waited", type=int, required=True)
    crash.add_argument("--stale-seconds", type=int, required=True)
    crash.add_argument("--server-killed", action="store_true")
    analyze = commands.add_parser("analyze-webhooks")
    analyze.add_argument("--events", required=True)
    analyze.add_argument("--timeline", required=True)
    analyze.add_argument("--stored", required=True)
    analyze.add_argument("--alive", required=True)
    provider = commands.add_parser("provider")
    provider.add_argument("--base", required=True)
    provider.add_argument("--simulator", required=True)
    provider.add_argument("--organizations", required=True)
    provider.add_argument("--from", dest="from_number", required=True)
    provider.add_argument("--timeout-ms", type=int, required=True)
    args = parser.parse_args()
    if args.command == "webhooks":
        send_webhooks(args)
        return 0
    if args.command == "analyze-webhooks":
        return analyze_webhooks(args)
    if args.command == "calls":
        send_calls(args)
        return 0
    if args.command == "analyze-crash":
        return analyze_crash(args)
    return provider_faults(args)


if __name__ == "__main__":
    sys.exit(main())
