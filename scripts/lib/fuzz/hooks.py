"""schemathesis hooks of scripts/fuzz (loaded through SCHEMATHESIS_HOOKS)."""

import schemathesis

# POST /api/v1/contacts/import also takes `application/csv`, which schemathesis has no
# serializer for: it is text on the wire, like text/csv.
schemathesis.serializer.alias("application/csv", "text/plain")
