import Foundation

/// The browser side of Twilio's Voice JS SDK, as simulator-only routes: a client connects with an access token and
/// becomes an inbound leg whose TwiML comes from the token's TwiML application.
extension TwilioAPI {
    /// Twilio access tokens live at most 24 hours.
    private static let maximumTokenLifetime: TimeInterval = 86_400

    /// Answers `/twilio/_sim/…`.
    func handleSimulatorRoute(_ request: IncomingRequest, route: [String]) -> OutgoingResponse {
        guard route.first == "client-calls" else {
            return .json(404, ["error": .string("No simulator route at \(request.path)")])
        }
        switch (request.method, route.count) {
        case ("POST", 1):
            return connectClient(request)
        case ("POST", 3) where route[2] == "hangup":
            return hangUpClient(route[1])
        default:
            return .json(404, ["error": .string("No simulator route at \(request.method) \(request.path)")])
        }
    }

    /// `POST /twilio/_sim/client-calls` `{"access_token", "params"}`: the browser places a call.
    private func connectClient(_ request: IncomingRequest) -> OutgoingResponse {
        guard let body = request.json?.objectValue, let token = body["access_token"]?.stringValue else {
            return Self.tokenError(20101, "Send a JSON object with access_token (and optionally params).")
        }
        var requestParameters: [(String, String)] = []
        if let params = body["params"] {
            guard let object = params.objectValue else {
                return .json(400, ["code": 20001, "message": "params must be an object of strings", "status": 400])
            }
            for name in object.keys.sorted() {
                guard let value = object[name]?.stringValue else {
                    return .json(400, ["code": 20001, "message": .string("params.\(name) must be a string"), "status": 400])
                }
                requestParameters.append((name, value))
            }
        }
        let verified: VerifiedAccessToken
        switch verify(token, now: Date()) {
        case .success(let token): verified = token
        case .failure(let failure): return Self.tokenError(failure.code, failure.message)
        }

        let now = Date()
        let key = CallKey(provider: .twilio, id: "CA" + RandomIdentifier.hex(32))
        let from = "client:" + verified.identity
        let to = requestParameters.first { $0.0 == "To" }?.1 ?? ""
        var parameters: [(String, String)] = [
            ("AccountSid", verified.account.accountSID), ("ApiVersion", Self.apiVersion),
            ("ApplicationSid", verified.application.sid), ("CallSid", key.id), ("CallStatus", "ringing"),
            ("Direction", "inbound"), ("From", from), ("Caller", from), ("To", to),
        ]
        // Grant parameters first; a request parameter never replaces one of the same name (nor a standard one).
        for (name, value) in verified.grantParameters where !parameters.contains(where: { $0.0 == name }) {
            parameters.append((name, value))
        }
        for (name, value) in requestParameters where !parameters.contains(where: { $0.0 == name }) {
            parameters.append((name, value))
        }
        var details = TwilioCallDetails(
            statusCallback: nil, statusCallbackMethod: "POST", statusCallbackEvents: [], phoneNumberSID: nil)
        details.direction = "inbound"
        details.instructions = .clientApplication(
            url: verified.application.voiceURL, method: verified.application.voiceMethod, parameters: parameters)
        var call = SimulatedCall(
            key: key, accountID: verified.account.accountSID, from: from, to: to, createdAt: now,
            details: .twilio(details))
        call.phase = .answered
        call.answeredAt = now
        store.place(call, start: .answeredOnArrival)
        return .json(201, ["call_sid": .string(key.id)])
    }

    /// `POST /twilio/_sim/client-calls/{CallSid}/hangup`: the browser hangs up.
    private func hangUpClient(_ callSID: String) -> OutgoingResponse {
        let key = CallKey(provider: .twilio, id: callSID)
        guard let call = store.call(key), case .twilio(let details) = call.details, details.direction == "inbound" else {
            return Self.error(404, code: 20404, message: "No browser client call \(callSID)")
        }
        let ended = store.end(key, as: .completed)?.call ?? call
        leaveConference(key)
        return .json(200, ["call_sid": .string(callSID), "status": .string(Self.status(ended))])
    }

    /// A 401 as Twilio's SDK endpoints give one: `{"code", "message", "more_info", "status"}`.
    private static func tokenError(_ code: Int, _ message: String) -> OutgoingResponse {
        error(401, code: code, message: message)
    }

    /// What a valid access token grants.
    private struct VerifiedAccessToken {
        var account: SimulatorAccounts.Twilio
        var identity: String
        var application: (sid: String, voiceURL: String, voiceMethod: String)
        var grantParameters: [(String, String)]
    }

    /// Why an access token was refused: Twilio's code and a reason.
    private struct TokenFailure: Error {
        var code: Int
        var message: String
    }

    /// Checks an access token as Twilio does: header, issuer and subject, signature, lifetime, then the voice grant.
    private func verify(_ token: String, now: Date) -> Result<VerifiedAccessToken, TokenFailure> {
        guard let parts = CompactJWT.split(token) else {
            return .failure(.init(code: 20101, message: "Invalid Access Token: not a JWT of three base64url parts"))
        }
        guard parts.header["alg"]?.stringValue == "HS256", parts.header["typ"]?.stringValue == "JWT",
            parts.header["cty"]?.stringValue == "twilio-fpa;v=1"
        else {
            return .failure(
                .init(code: 20101, message: "Invalid Access Token header: need alg HS256, typ JWT, cty twilio-fpa;v=1"))
        }
        guard let accountSID = parts.claims["sub"]?.stringValue,
            let account = accounts.first(where: { $0.accountSID == accountSID }),
            let keySID = parts.claims["iss"]?.stringValue,
            let key = account.apiKeys.first(where: { $0.sid == keySID })
        else {
            return .failure(
                .init(code: 20103, message: "Invalid Access Token issuer/subject: iss must be an API key of account sub"))
        }
        guard CompactJWT.hasValidHS256Signature(parts, secret: Array(key.secret.utf8)) else {
            return .failure(.init(code: 20107, message: "Invalid Access Token signature"))
        }
        let seconds = now.timeIntervalSince1970
        guard let expires = parts.claims["exp"]?.intValue else {
            return .failure(.init(code: 20104, message: "Access Token expiration date invalid: exp is missing"))
        }
        guard seconds < TimeInterval(expires) else {
            return .failure(.init(code: 20104, message: "Access Token expired"))
        }
        if let notBefore = parts.claims["nbf"] {
            guard let value = notBefore.intValue else {
                return .failure(.init(code: 20101, message: "Invalid Access Token: nbf must be a number"))
            }
            guard TimeInterval(value) <= seconds else {
                return .failure(.init(code: 20105, message: "Access Token not yet valid"))
            }
        }
        let issued = parts.claims["nbf"]?.intValue ?? parts.claims["iat"]?.intValue ?? Int(seconds)
        guard TimeInterval(expires - issued) <= Self.maximumTokenLifetime else {
            return .failure(.init(code: 20104, message: "Access Token expiration date invalid: more than 24 hours"))
        }
        let grants = parts.claims["grants"]
        guard let identity = grants?["identity"]?.stringValue, !identity.isEmpty else {
            return .failure(.init(code: 20106, message: "Invalid Access Token grants: identity is missing"))
        }
        guard let outgoing = grants?["voice"]?["outgoing"], let applicationSID = outgoing["application_sid"]?.stringValue
        else {
            return .failure(
                .init(code: 20106, message: "Invalid Access Token grants: no voice.outgoing.application_sid"))
        }
        let application = store.read { world in
            world.twilioApplications[applicationSID].flatMap { app in
                app.accountSID == account.accountSID ? app : nil
            }
        }
        guard let application else {
            return .failure(
                .init(code: 20106, message: "Invalid Access Token grants: application \(applicationSID) not found"))
        }
        guard let voiceURL = application.voiceURL else {
            return .failure(
                .init(code: 20106, message: "Invalid Access Token grants: application \(applicationSID) has no voice URL"))
        }
        var grantParameters: [(String, String)] = []
        if let params = outgoing["params"], !params.isNull {
            guard let object = params.objectValue else {
                return .failure(.init(code: 20106, message: "Invalid Access Token grants: voice.outgoing.params"))
            }
            for name in object.keys.sorted() {
                guard let value = object[name]?.stringValue else {
                    return .failure(
                        .init(code: 20106, message: "Invalid Access Token grants: voice.outgoing.params.\(name)"))
                }
                grantParameters.append((name, value))
            }
        }
        return .success(
            VerifiedAccessToken(
                account: account, identity: identity,
                application: (application.sid, voiceURL, application.voiceMethod), grantParameters: grantParameters))
    }
}
