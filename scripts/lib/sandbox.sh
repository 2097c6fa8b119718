# shellcheck shell=bash
# The sandbox's seed, shared by `scripts/run --sandbox` and `scripts/console-test`: the organization
# "sandbox" with every simulated provider's credentials (the simulators' accounts file), an admin
# API key and a console admin user with a fresh password. Source it, then call
#   sb_sandbox_seed BIN BASE_URL ACCOUNTS_FILE
# after the server answers /readyz. Sets SB_SANDBOX_ADMIN_KEY, SB_SANDBOX_EMAIL, SB_SANDBOX_PASSWORD.

sb_sandbox_key_of() {
  python3 -c '
import json, sys
for line in reversed(sys.stdin.read().splitlines()):
    line = line.strip()
    if line.startswith("{"):
        try:
            print(json.loads(line)["key"])
            break
        except (ValueError, KeyError, TypeError):
            pass
'
}

sb_sandbox_seed() {
  local bin=$1 base=$2 accounts=$3 key document
  "$bin" organizations create --slug sandbox --name "Sandbox" >/dev/null 2>&1 || true
  SB_SANDBOX_ADMIN_KEY=$("$bin" api-keys create --organization sandbox --role admin --name "sandbox-$(date +%s)" | sb_sandbox_key_of)
  # Store every simulated provider's credentials (the file's documents match the API's).
  while IFS=$'\t' read -r key document; do
    curl -sf -o /dev/null -X PUT -H "Authorization: Bearer $SB_SANDBOX_ADMIN_KEY" -H 'Content-Type: application/json' \
      -d "$document" "$base/api/v1/organizations/sandbox/configuration/$key" || echo "sandbox: storing $key failed" >&2
  done < <(python3 - "$accounts" <<'PY'
import json, sys
accounts = json.load(open(sys.argv[1]))
for provider in ("twilio", "telnyx", "vonage", "plivo"):
    print(f"{provider.upper()}_CONFIGURATION\t{json.dumps(accounts[provider])}")
print('TELEPHONY_PROVIDER\t{"provider": "twilio"}')
if "odoo" in accounts:
    print(f"ODOO_CONFIGURATION\t{json.dumps(accounts['odoo'])}")
PY
  )
  # The console's admin: a new random password each run, handed over on standard input.
  SB_SANDBOX_EMAIL=admin@sandbox.example
  SB_SANDBOX_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_urlsafe(15))')
  printf '%s' "$SB_SANDBOX_PASSWORD" |
    "$bin" users create --organization sandbox --email "$SB_SANDBOX_EMAIL" --role admin --name "Sandbox admin" >/dev/null
  export SB_SANDBOX_ADMIN_KEY SB_SANDBOX_EMAIL SB_SANDBOX_PASSWORD
}
