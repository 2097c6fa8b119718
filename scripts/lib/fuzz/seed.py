"""Seeds the organization `fuzz` for scripts/fuzz through the API itself.

Stores every simulated provider's credentials (from the simulators' accounts file) with Twilio
as TELEPHONY_PROVIDER and a CALL_POLICY open to every destination, so calls and cold calls get past 422 to the simulators; imports a few
contacts and places a call and a cold call, so the list routes (and the links from them) have
something to find; stores a Twilio document in `fuzz-config`, whose configuration the fuzzer
rewrites. Exits non-zero on any failure.

    seed.py BASE_URL ADMIN_KEY SERVICE_KEY CONFIG_ADMIN_KEY ACCOUNTS_FILE
"""

import json
import sys
import urllib.request

base, admin, service, config_admin, accounts_file = sys.argv[1:6]


def call(method, path, key, body=None, content_type="application/json"):
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Authorization", f"Bearer {key}")
    if data is not None:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        sys.exit(f"fuzz seed: {method} {path} answered {error.code}: {error.read().decode(errors='replace')}")


with open(accounts_file) as handle:
    accounts = json.load(handle)
for provider in ("twilio", "telnyx", "vonage", "plivo"):
    call("PUT", f"/api/v1/organizations/fuzz/configuration/{provider.upper()}_CONFIGURATION", admin, accounts[provider])
call("PUT", "/api/v1/organizations/fuzz/configuration/TELEPHONY_PROVIDER", admin, {"provider": "twilio"})
# Generated destinations are anywhere and come fast: a CALL_POLICY that lets them reach the
# simulators, so the fuzzer exercises the placing of calls rather than 403/429.
call("PUT", "/api/v1/organizations/fuzz/configuration/CALL_POLICY", admin, {
    "allowed_destination_prefixes": [f"+{digit}" for digit in range(1, 10)],
    "max_calls_per_minute": 100000, "max_concurrent_calls": 100000,
})

csv = b"name,phone,company,notes\nAda Lovelace,+14155550123,Analytical,first\nAlan Turing,+442079460000,Bletchley,\nGrace Hopper,(415) 555-0199,Navy,compilers\n"
status, result = call("POST", "/api/v1/contacts/import", service, csv, "text/csv")
if result.get("imported", 0) < 1:
    sys.exit(f"fuzz seed: the contact import stored nothing: {result}")

_, call_ = call("POST", "/api/v1/telephony/initiate-call", service, {"to_number": "+14155550123", "workflow_id": "fuzz-seed"})
_, contacts = call("GET", "/api/v1/contacts?limit=1", service)
_, cold = call("POST", "/api/v1/cold-call/initiate", service, {"contact_id": contacts["contacts"][0]["id"]})
call("PUT", "/api/v1/organizations/fuzz-config/configuration/TWILIO_CONFIGURATION", config_admin, {
    "account_sid": "AC" + "0123456789abcdef" * 2, "auth_token": "fedcba9876543210" * 2, "from_numbers": ["+14155550100"],
})
print(f"fuzz seed: {result['imported']} contacts, call {call_['call_id']}, conference {cold['conference_id']}", file=sys.stderr)
