import Foundation
import PostgresNIO

/// The statements of the busiest request paths (webhooks, API-key checks, configuration reads,
/// placing a call),
/// prepared once per pooled connection: PostgreSQL then parses and plans each of them once per
/// connection instead of on every request. Parameter types are declared, so a first execution with
/// a NULL cannot fix a parameter's type to something a later value does not match.
enum HotPathStatements {
    /// `OrganizationStore.find` by id.
    struct OrganizationByID: PostgresPreparedStatement {
        static let sql = "SELECT id, slug, name, created_at, disabled_at FROM organizations WHERE id = $1"
        static let bindingDataTypes: [PostgresDataType] = [.uuid]
        typealias Row = (UUID, String, String, Date, Date?)
        let id: UUID

        func makeBindings() -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 1)
            bindings.append(id)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// `OrganizationStore.find` by slug.
    struct OrganizationBySlug: PostgresPreparedStatement {
        static let sql = "SELECT id, slug, name, created_at, disabled_at FROM organizations WHERE slug = $1"
        static let bindingDataTypes: [PostgresDataType] = [.text]
        typealias Row = (UUID, String, String, Date, Date?)
        let slug: String

        func makeBindings() -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 1)
            bindings.append(slug)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// The key lookup of `APIKeyStore.authenticate`.
    struct APIKeyByPrefix: PostgresPreparedStatement {
        static let sql = """
            SELECT k.id, k.name, k.role, k.organization_id, o.slug, k.secret_hash, k.expires_at, k.revoked_at,
                   k.last_used_at, o.disabled_at
            FROM api_keys k LEFT JOIN organizations o ON o.id = k.organization_id
            WHERE k.prefix = $1
            """
        static let bindingDataTypes: [PostgresDataType] = [.text]
        typealias Row = (UUID, String, String, UUID?, String?, Data, Date?, Date?, Date?, Date?)
        let prefix: String

        func makeBindings() -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 1)
            bindings.append(prefix)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// `ConfigurationStore.get`: one masked row.
    struct ConfigurationByKey: PostgresPreparedStatement {
        static let sql = """
            SELECT \(ConfigurationStore.columns) FROM organization_configuration
            WHERE organization_id = $1 AND key = $2
            """
        static let bindingDataTypes: [PostgresDataType] = [.uuid, .text]
        typealias Row = ConfigurationStore.Columns
        let organizationID: UUID
        let key: String

        func makeBindings() -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 2)
            bindings.append(organizationID)
            bindings.append(key)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// `CallStore.lockProviderCall`: the transaction-scoped lock of one provider call.
    struct ProviderCallLock: PostgresPreparedStatement {
        static let sql = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"
        static let bindingDataTypes: [PostgresDataType] = [.text]
        typealias Row = ()
        let name: String

        func makeBindings() -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 1)
            bindings.append(name)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { () }
    }

    /// `CallStore.record`'s one statement: insert the event; if it is new, move its call forward
    /// when `status` ranks higher (terminal statuses never change — the rules of
    /// `CallStore.advance`), or else set a duration the call lacks; then answer whether the event
    /// was new, and the call after the change (NULLs when no call has this provider call id yet).
    /// A leg id (`$10`) the call lacks is recorded too; a call is found by its provider call id or,
    /// for events that name only the leg, by that leg id. An event of no call of the organization is
    /// stored nowhere (issue 10, item 12) unless one of its calls of that provider is still
    /// initiating: then it may be that call's early event, applied when the call is placed.
    struct RecordEvent: PostgresPreparedStatement {
        private static let advances = """
            (switchboard_call_status_rank(status) < 4
             AND switchboard_call_status_rank(status) < switchboard_call_status_rank($6))
            """
        static let sql = """
            WITH known AS (
                SELECT EXISTS (
                    SELECT 1 FROM calls
                    WHERE organization_id = $1 AND provider = $2 AND (provider_call_id = $5 OR provider_leg_id = $10)
                ) OR \(CallStore.initiatingCallExists) AS yes
            ), inserted AS (
                INSERT INTO webhook_events (organization_id, provider, event_key, kind, provider_call_id, status,
                                            raw_status, duration_seconds, payload, provider_leg_id)
                SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 WHERE (SELECT yes FROM known)
                ON CONFLICT DO NOTHING RETURNING 1
            ), changed AS (
                UPDATE calls SET
                    status = CASE WHEN \(advances) THEN $6 ELSE status END,
                    raw_status = CASE WHEN \(advances) THEN $7 ELSE raw_status END,
                    updated_at = now(),
                    duration_seconds = CASE WHEN \(advances) THEN COALESCE($8, duration_seconds)
                                            ELSE COALESCE(duration_seconds, $8) END,
                    provider_leg_id = COALESCE(provider_leg_id, $10),
                    answered_at = CASE
                        WHEN NOT COALESCE(\(advances), false) THEN answered_at
                        WHEN $6 = 'in-progress' THEN COALESCE(answered_at, now())
                        -- A completed call that talked was answered, even if that event never came.
                        WHEN $6 = 'completed' AND answered_at IS NULL AND COALESCE($8, 0) > 0
                            THEN now() - make_interval(secs => $8)
                        ELSE answered_at END,
                    ended_at = CASE WHEN \(advances) AND switchboard_call_status_rank($6) = 4 THEN now() ELSE ended_at END
                WHERE organization_id = $1 AND provider = $2 AND (provider_call_id = $5 OR provider_leg_id = $10)
                  AND EXISTS (SELECT 1 FROM inserted)
                  AND (COALESCE(\(advances), false) OR ($8 IS NOT NULL AND duration_seconds IS NULL)
                       OR ($10 IS NOT NULL AND provider_leg_id IS NULL))
                RETURNING \(CallStore.columns)
            )
            SELECT EXISTS (SELECT 1 FROM inserted), (SELECT yes FROM known), call.*
            FROM (SELECT 1) AS one
            LEFT JOIN LATERAL (
                SELECT \(CallStore.columns) FROM changed
                UNION ALL
                SELECT \(CallStore.columns) FROM calls
                WHERE organization_id = $1 AND provider = $2 AND (provider_call_id = $5 OR provider_leg_id = $10)
                  AND NOT EXISTS (SELECT 1 FROM changed)
                LIMIT 1
            ) AS call ON true
            """
        static let bindingDataTypes: [PostgresDataType] = [
            .uuid, .text, .text, .text, .text, .text, .text, .int8, .bytea, .text,
        ]
        typealias Row = (
            Bool, Bool, UUID?, UUID?, String?, String?, String?, String?, String?, String?, String?, String?, String?,
            Int?, Date?, Date?, Date?, Date?
        )
        let organizationID: UUID
        let providerCallID: String
        let event: RecordedEvent

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 10)
            bindings.append(organizationID)
            bindings.append(event.provider)
            bindings.append(event.eventKey)
            bindings.append(event.kind)
            bindings.append(providerCallID)
            bindings.append(event.status)
            bindings.append(event.rawStatus)
            bindings.append(event.durationSeconds)
            try bindings.append(event.payload)
            bindings.append(event.providerLegID)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// `CallStore.begin`'s insert of a new `initiating` call (nothing when its Idempotency-Key was used).
    struct BeginCall: PostgresPreparedStatement {
        static let sql = """
            INSERT INTO calls (organization_id, id, provider, status, from_number, to_number, workflow_id,
                               workflow_run_id, idempotency_key, request_hash, created_by, conference_id)
            VALUES ($1, $2, $3, 'initiating', $4, $5, $6, $7, $8, $9, $10, $11)
            ON CONFLICT (organization_id, idempotency_key) DO NOTHING
            RETURNING \(CallStore.columns)
            """
        static let bindingDataTypes: [PostgresDataType] = [
            .uuid, .uuid, .text, .text, .text, .text, .text, .text, .text, .uuid, .uuid,
        ]
        typealias Row = CallStore.Columns
        let organizationID: UUID
        let id: UUID
        let call: NewCall

        func makeBindings() -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 11)
            bindings.append(organizationID)
            bindings.append(id)
            bindings.append(call.provider)
            bindings.append(call.fromNumber)
            bindings.append(call.toNumber)
            bindings.append(call.workflowID)
            bindings.append(call.workflowRunID)
            bindings.append(call.idempotencyKey)
            bindings.append(call.requestHash)
            bindings.append(call.createdBy)
            bindings.append(call.conferenceID)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// `CallStore.markPlaced`'s lock: the same lock as `ProviderCallLock` (the name is built from the
    /// call's own provider the same way), taken in the statement that reads that provider.
    struct LockPlacedCall: PostgresPreparedStatement {
        static let sql = """
            SELECT pg_advisory_xact_lock(hashtextextended($1::text || '|' || provider || '|' || $3, 0))
            FROM calls WHERE organization_id = $1 AND id = $2
            """
        static let bindingDataTypes: [PostgresDataType] = [.uuid, .uuid, .text]
        typealias Row = ()
        let organizationID: UUID
        let id: UUID
        let providerCallID: String

        func makeBindings() -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 3)
            bindings.append(organizationID)
            bindings.append(id)
            bindings.append(providerCallID)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { () }
    }

    /// `CallStore.markPlaced`'s update of a call still `initiating`, with the furthest status among the call's events that
    /// arrived before it (and their longest duration), to apply next.
    struct PlaceCall: PostgresPreparedStatement {
        static let sql = """
            WITH placed AS (
                UPDATE calls SET provider_call_id = $3, status = $4, raw_status = $5, updated_at = now(),
                    provider_leg_id = COALESCE(provider_leg_id, (
                        SELECT e.provider_leg_id FROM webhook_events e
                        WHERE e.organization_id = $1 AND e.provider = calls.provider AND e.provider_call_id = $3
                          AND e.provider_leg_id IS NOT NULL
                        LIMIT 1))
                WHERE organization_id = $1 AND id = $2 AND status = '\(CallRowState.initiating.rawValue)'
                RETURNING \(CallStore.columns)
            )
            SELECT placed.*, early.status, early.raw_status, early.duration_seconds
            FROM placed LEFT JOIN LATERAL (
                SELECT status, raw_status, (SELECT max(duration_seconds) FROM webhook_events
                    WHERE organization_id = $1 AND provider = placed.provider AND provider_call_id = $3) AS duration_seconds
                FROM webhook_events
                WHERE organization_id = $1 AND provider = placed.provider AND provider_call_id = $3 AND status IS NOT NULL
                ORDER BY switchboard_call_status_rank(status) DESC, received_at DESC LIMIT 1
            ) AS early ON true
            """
        static let bindingDataTypes: [PostgresDataType] = [.uuid, .uuid, .text, .text, .text]
        typealias Row = (CallStore.Columns, String?, String?, Int?)
        let organizationID: UUID
        let id: UUID
        let providerCallID: String
        let status: String
        let rawStatus: String

        func makeBindings() -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 5)
            bindings.append(organizationID)
            bindings.append(id)
            bindings.append(providerCallID)
            bindings.append(status)
            bindings.append(rawStatus)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row {
            let (c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, earlyStatus, earlyRaw, duration) =
                try row.decode(
                    (UUID, UUID, String, String?, String, String?, String, String, String, String?, String?, Int?, Date, Date,
                     Date?, Date?, String?, String?, Int?).self)
            return ((c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15), earlyStatus, earlyRaw, duration)
        }
    }
}
