import Foundation

/// Telnyx telephony credentials (WebRTC logins on a credential connection), their login tokens, and the browser
/// side of the WebRTC SDK as simulator-only routes.
extension TelnyxAPI {
    /// Login tokens live 24 hours (or until the credential expires, if sooner).
    private static let tokenLifetime: TimeInterval = 86_400

    /// Answers `/v2/telephony_credentials…` and `/v2/credential_connections…`; `rest` starts with the collection.
    func handleCredentials(
        _ request: IncomingRequest, rest: [String], account: SimulatorAccounts.Telnyx
    ) -> OutgoingResponse {
        switch (request.method, rest.count, rest[0]) {
        case ("POST", 1, "telephony_credentials"):
            return createCredential(request, account: account)
        case ("GET", 2, "telephony_credentials"):
            guard let credential = ownedCredential(rest[1], account: account) else { return Self.notFound() }
            return .json(200, ["data": credentialObject(credential)])
        case ("POST", 3, "telephony_credentials") where rest[2] == "token":
            guard let credential = ownedCredential(rest[1], account: account) else { return Self.notFound() }
            // The token is text/plain only (telnyx-python `resources/telephony_credentials.py` sends
            // `Accept: text/plain`); a client that asks for JSON alone cannot have it.
            if let accept = request.headers["accept"], !Self.accepts(accept, "text/plain") {
                return Self.error(
                    406, code: "10006", title: "Not acceptable",
                    detail: "This endpoint answers text/plain; the Accept header asked for \(accept).")
            }
            return issueToken(for: credential)
        case ("GET", 2, "credential_connections"):
            guard account.credentialConnectionIDs.contains(rest[1]) else { return Self.notFound() }
            return .json(200, ["data": credentialConnectionObject(rest[1])])
        case ("PATCH", 2, "credential_connections"):
            guard account.credentialConnectionIDs.contains(rest[1]) else { return Self.notFound() }
            return updateCredentialConnection(request, id: rest[1])
        default:
            return Self.notFound()
        }
    }

    /// Whether an Accept header admits `type` (exactly, as `type/*`, or as `*/*`).
    static func accepts(_ header: String, _ type: String) -> Bool {
        let major = type.split(separator: "/").first.map { "\($0)/*" } ?? type
        return header.split(separator: ",").contains { range in
            let media = range.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            return media == type || media == major || media == "*/*"
        }
    }

    /// The account's telephony credential with this id.
    private func ownedCredential(_ id: String, account: SimulatorAccounts.Telnyx) -> TelnyxCredential? {
        store.read { world in
            world.telnyxCredentials[id].flatMap { $0.accountID == account.apiKey ? $0 : nil }
        }
    }

    /// Parses an ISO 8601 date with or without fractional seconds.
    private static func parseDate(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    /// `POST /telephony_credentials`: a login on one of the account's credential connections.
    private func createCredential(_ request: IncomingRequest, account: SimulatorAccounts.Telnyx) -> OutgoingResponse {
        guard let fields = request.json?.objectValue else {
            return Self.error(
                400, code: "10015", title: "Bad Request",
                detail: "The request failed because it was not well-formed: send a JSON object as application/json.")
        }
        guard let connectionID = fields["connection_id"]?.stringValue, !connectionID.isEmpty else {
            return Self.missing("connection_id")
        }
        guard account.credentialConnectionIDs.contains(connectionID) else {
            return Self.error(
                422, code: "10017", title: "Associated resource does not exist",
                detail: "connection_id \(connectionID) is not a credential connection of this account.",
                pointer: "/connection_id")
        }
        for name in ["name", "tag"] {
            if let value = fields[name], !value.isNull, value.stringValue == nil {
                return Self.invalid(name, "\(name) must be a string.")
            }
        }
        var expiresAt: Date?
        if let value = fields["expires_at"], !value.isNull {
            guard let text = value.stringValue, let date = Self.parseDate(text) else {
                return Self.invalid("expires_at", "expires_at must be an ISO 8601 date-time.")
            }
            expiresAt = date
        }
        let now = Date()
        let credential = TelnyxCredential(
            id: RandomIdentifier.uuid(), accountID: account.apiKey, connectionID: connectionID,
            name: fields["name"]?.stringValue, tag: fields["tag"]?.stringValue,
            sipUsername: "gencred" + RandomIdentifier.alphanumeric(40), sipPassword: RandomIdentifier.alphanumeric(32),
            expiresAt: expiresAt, createdAt: now, updatedAt: now)
        store.transact { world, _ in
            world.telnyxCredentials[credential.id] = credential
            world.telnyxCredentialOrder.append(credential.id)
        }
        return .json(201, ["data": credentialObject(credential)])
    }

    /// The credential object as Telnyx returns it.
    private func credentialObject(_ credential: TelnyxCredential) -> JSONValue {
        [
            "record_type": "credential", "id": .string(credential.id), "name": .optional(credential.name),
            "tag": .optional(credential.tag), "resource_id": .string("connection:" + credential.connectionID),
            "sip_username": .string(credential.sipUsername), "sip_password": .string(credential.sipPassword),
            "expired": .bool(credential.isExpired(at: Date())),
            "expires_at": .optional(credential.expiresAt.map(Timestamp.iso8601)),
            "created_at": .string(Timestamp.iso8601(credential.createdAt)),
            "updated_at": .string(Timestamp.iso8601(credential.updatedAt)), "user_id": nil,
        ]
    }

    /// `POST /telephony_credentials/{id}/token`: a JWT the simulator signs, as `text/plain`.
    private func issueToken(for credential: TelnyxCredential) -> OutgoingResponse {
        let now = Date()
        guard !credential.isExpired(at: now) else {
            return Self.error(
                422, code: "10015", title: "Credential expired",
                detail: "The telephony credential has expired; tokens can't be created for it.")
        }
        var expires = now.addingTimeInterval(Self.tokenLifetime)
        if let credentialExpiry = credential.expiresAt, credentialExpiry < expires { expires = credentialExpiry }
        let seconds = Int(now.timeIntervalSince1970)
        let claims: JSONValue = [
            "aud": "telnyx_telephony", "iss": "telnyx_telephony", "sub": .string(credential.id),
            "iat": .int(seconds), "nbf": .int(seconds - 1), "exp": .int(Int(expires.timeIntervalSince1970)),
            "jti": .string(RandomIdentifier.uuid()), "typ": "access",
            "tel_token": .string(RandomIdentifier.base64URL(bytes: 48)),
        ]
        let token = CompactJWT.signHS512(claims: claims, secret: tokenSecret)
        return OutgoingResponse(status: 201, headers: [("Content-Type", "text/plain")], body: Array(token.utf8))
    }

    /// The credential connection object, with the webhook URL the simulator holds for it.
    private func credentialConnectionObject(_ id: String) -> JSONValue {
        let url = store.read { $0.credentialConnectionWebhooks[id] }
        let created = Timestamp.iso8601(Date(timeIntervalSince1970: 1_704_067_200))
        return [
            "record_type": "credential_connection", "id": .string(id), "active": true,
            "connection_name": "switchboard-sandbox-webrtc", "webhook_event_url": .optional(url),
            "webhook_event_failover_url": nil, "webhook_api_version": "2", "webhook_timeout_secs": nil,
            "created_at": .string(created), "updated_at": .string(created),
        ]
    }

    /// `PATCH /credential_connections/{id}` `{webhook_event_url}`: where the connection's call events go.
    private func updateCredentialConnection(_ request: IncomingRequest, id: String) -> OutgoingResponse {
        guard let fields = request.json?.objectValue else {
            return Self.error(
                400, code: "10015", title: "Bad Request",
                detail: "The request failed because it was not well-formed: send a JSON object as application/json.")
        }
        if let value = fields["webhook_event_url"] {
            if value.isNull {
                store.transact { world, _ in _ = world.credentialConnectionWebhooks.removeValue(forKey: id) }
            } else {
                guard let url = value.stringValue, isAbsoluteHTTPURL(url) else {
                    return Self.error(
                        422, code: "10003", title: "Invalid URL",
                        detail: "The URL provided was invalid, malformed, or too long.", pointer: "/webhook_event_url")
                }
                store.transact { world, _ in world.credentialConnectionWebhooks[id] = url }
            }
        }
        return .json(200, ["data": credentialConnectionObject(id)])
    }

    // MARK: - Browser (simulator-only routes)

    /// Answers `/telnyx/_sim/…`.
    func handleSimulatorRoute(_ request: IncomingRequest, route: [String]) -> OutgoingResponse {
        guard route.first == "webrtc-calls" else { return Self.notFound() }
        switch (request.method, route.count) {
        case ("POST", 1):
            return placeWebRTCCall(request)
        case ("POST", 3) where route[2] == "hangup":
            return hangUpWebRTCCall(route[1])
        default:
            return Self.notFound()
        }
    }

    /// A 401 for a WebRTC login that does not verify.
    private static func loginRefused(_ why: String) -> OutgoingResponse {
        error(401, code: "10009", title: "Authentication failed", detail: why)
    }

    /// Checks a login token this simulator issued; returns the credential it logs in as.
    private func verifyLoginToken(_ token: String, now: Date) -> Result<TelnyxCredential, OutgoingResponse> {
        guard let parts = CompactJWT.split(token), parts.header["alg"]?.stringValue == "HS512" else {
            return .failure(Self.loginRefused("The login token is not a Telnyx JWT."))
        }
        guard CompactJWT.hasValidHS512Signature(parts, secret: tokenSecret) else {
            return .failure(Self.loginRefused("The login token's signature is invalid."))
        }
        guard let expires = parts.claims["exp"]?.intValue, now.timeIntervalSince1970 < TimeInterval(expires) else {
            return .failure(Self.loginRefused("The login token has expired."))
        }
        guard let id = parts.claims["sub"]?.stringValue,
            let credential = store.read({ $0.telnyxCredentials[id] })
        else {
            return .failure(Self.loginRefused("The login token's credential does not exist."))
        }
        guard !credential.isExpired(at: now) else {
            return .failure(Self.loginRefused("The login token's credential has expired."))
        }
        return .success(credential)
    }

    /// `POST /telnyx/_sim/webrtc-calls`: the browser, logged in with a token, calls out; Telnyx sees an incoming leg.
    private func placeWebRTCCall(_ request: IncomingRequest) -> OutgoingResponse {
        guard let fields = request.json?.objectValue else {
            return Self.error(
                400, code: "10015", title: "Bad Request",
                detail: "Send a JSON object with login_token (and optionally destination_number, caller_number, client_state).")
        }
        guard let token = fields["login_token"]?.stringValue, !token.isEmpty else {
            return Self.loginRefused("login_token is required.")
        }
        let now = Date()
        let credential: TelnyxCredential
        switch verifyLoginToken(token, now: now) {
        case .success(let verified): credential = verified
        case .failure(let response): return response
        }
        let clientState = fields["client_state"]?.stringValue
        if let clientState, Data(base64Encoded: clientState) == nil {
            return Self.invalid("client_state", "client_state must be a valid Base-64 encoded string.")
        }
        let details = TelnyxCallDetails(
            callLegID: RandomIdentifier.uuid(), callSessionID: RandomIdentifier.uuid(),
            connectionID: credential.connectionID, clientState: clientState, webhookURL: nil, direction: "incoming")
        let call = SimulatedCall(
            key: CallKey(provider: .telnyx, id: "v3:" + RandomIdentifier.base64URL(bytes: 40)),
            accountID: credential.accountID,
            from: fields["caller_number"]?.stringValue ?? "sip:\(credential.sipUsername)@sip.telnyx.com",
            to: fields["destination_number"]?.stringValue ?? "", createdAt: now, details: .telnyx(details))
        store.place(call, start: .parked)
        return .json(
            201,
            [
                "call_control_id": .string(call.key.id), "call_leg_id": .string(details.callLegID),
                "call_session_id": .string(details.callSessionID),
            ])
    }

    /// `POST /telnyx/_sim/webrtc-calls/{id}/hangup`: the browser hangs up.
    private func hangUpWebRTCCall(_ callControlID: String) -> OutgoingResponse {
        let key = CallKey(provider: .telnyx, id: callControlID)
        guard let call = store.call(key), case .telnyx(let details) = call.details, details.direction == "incoming"
        else { return Self.notFound() }
        guard !call.hasEnded else { return Self.callEnded() }
        // The far end of an inbound leg is its caller: an unanswered call is canceled, an answered one completes.
        _ = store.end(key, as: call.answeredAt == nil ? .canceled : .completed)
        leaveConference(key)
        return .json(200, ["data": ["result": "ok"]])
    }
}
