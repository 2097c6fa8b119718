import Foundation
import Logging

/// Telnyx conferences are explicit: the first answered leg creates the conference through the
/// API (`POST /conferences`), later legs join it (`actions/join`). The agent's browser signs in
/// with a short-lived login token from a telephony credential; its SIP password never leaves
/// Telnyx's answer to Switchboard, and Switchboard does not keep it.
extension TelnyxProvider: ConferenceProvider {
    public var conferenceStyle: ConferenceStyle { .bridge }

    public var browserCredentialScope: String? { configuration.credentialConnectionID }

    /// How long Telnyx says a telephony-credential login token is valid.
    static let loginTokenLifetime: TimeInterval = 24 * 3600

    public func dialIntoConference(_ dial: ConferenceDial, logger: Logger) async throws -> PlacedCall {
        var body: [String: Any] = [
            "connection_id": configuration.connectionID, "to": dial.to, "from": dial.from,
            "webhook_url": dial.callEventsURL, "webhook_url_method": "POST",
            "timeout_secs": min(max(dial.ringTimeoutSeconds, 5), 600),
        ]
        if let state = dial.clientState { body["client_state"] = Data(state.utf8).base64EncodedString() }
        if let key = dial.idempotencyKey { body["command_id"] = key }
        if dial.record { body["record"] = "record-from-answer" }
        let response = try await send(.post, "/calls", json: body, logger: logger)
        guard let data = response.jsonObject()?["data"] as? [String: Any], let id = data["call_control_id"] as? String
        else {
            throw ProviderError.invalidResponse("Telnyx's answer has no data.call_control_id")
        }
        return PlacedCall(providerCallID: id, status: .queued, rawStatus: "queued")
    }

    public func conferenceMarkup(
        name: String, statusCallbackURL: String, endConferenceOnExit: Bool, recording: MarkupRecording?
    ) -> WebhookMarkup {
        // Call Control has no answer markup; legs are bridged through the API.
        WebhookMarkup(contentType: "text/xml", body: #"<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>"#)
    }

    public func createConference(name: String, callID: String, clientState: String?, logger: Logger) async throws -> String {
        var body: [String: Any] = ["call_control_id": callID, "name": name]
        if let clientState { body["client_state"] = Data(clientState.utf8).base64EncodedString() }
        let response = try await send(.post, "/conferences", json: body, logger: logger)
        guard let data = response.jsonObject()?["data"] as? [String: Any], let id = data["id"] as? String else {
            throw ProviderError.invalidResponse("Telnyx's conference has no data.id")
        }
        return id
    }

    /// `GET /conferences?filter[name]=…`: the newest conference of that name that has not ended.
    public func findConference(name: String, logger: Logger) async throws -> String? {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let escaped = name.addingPercentEncoding(withAllowedCharacters: allowed) ?? name
        let response = try await send(.get, "/conferences?filter%5Bname%5D=\(escaped)", logger: logger)
        guard let data = response.jsonObject()?["data"] as? [[String: Any]] else {
            throw ProviderError.invalidResponse("Telnyx's conference list has no data array")
        }
        return data.first { ($0["status"] as? String) != "completed" && $0["name"] as? String == name }?["id"] as? String
    }

    public func joinConference(providerConferenceID: String, callID: String, clientState: String?, logger: Logger) async throws {
        var body: [String: Any] = ["call_control_id": callID, "end_conference_on_exit": true]
        if let clientState { body["client_state"] = Data(clientState.utf8).base64EncodedString() }
        _ = try await send(
            .post, "/conferences/\(ProviderHTTPClient.pathEscape(providerConferenceID))/actions/join", json: body,
            logger: logger)
    }

    /// `actions/speak`: Telnyx reports `call.speak.ended` once the text has been spoken.
    public func announce(callID: String, text: String, clientState: String?, logger: Logger) async throws {
        var body: [String: Any] = ["payload": text, "voice": "female", "language": "en-US"]
        if let clientState { body["client_state"] = Data(clientState.utf8).base64EncodedString() }
        _ = try await send(.post, "/calls/\(ProviderHTTPClient.pathEscape(callID))/actions/speak", json: body, logger: logger)
    }

    /// `actions/record_start`: recorded from now; `call.recording.saved` follows the leg's hangup.
    public func startRecording(callID: String, clientState: String?, logger: Logger) async throws {
        var body: [String: Any] = ["format": "mp3", "channels": "single"]
        if let clientState { body["client_state"] = Data(clientState.utf8).base64EncodedString() }
        _ = try await send(
            .post, "/calls/\(ProviderHTTPClient.pathEscape(callID))/actions/record_start", json: body, logger: logger)
    }

    public func answerInbound(callID: String, clientState: String?, logger: Logger) async throws {
        var body: [String: Any] = [:]
        if let clientState { body["client_state"] = Data(clientState.utf8).base64EncodedString() }
        _ = try await send(.post, "/calls/\(ProviderHTTPClient.pathEscape(callID))/actions/answer", json: body, logger: logger)
    }

    public func control(
        _ action: ParticipantControl, providerConferenceID: String, callID: String, logger: Logger
    ) async throws {
        _ = try await send(
            .post, "/conferences/\(ProviderHTTPClient.pathEscape(providerConferenceID))/actions/\(action.rawValue)",
            json: ["call_control_ids": [callID]], logger: logger)
    }

    public func endConference(providerConferenceID: String, logger: Logger) async throws {
        _ = try await send(
            .post, "/conferences/\(ProviderHTTPClient.pathEscape(providerConferenceID))/actions/end", json: [:],
            logger: logger)
    }

    /// A login token for the WebRTC SDK from a telephony credential on the organization's
    /// credential connection: the stored credential when it still works, else a new one.
    public func browserToken(
        clientID: String, params: [String: String], storedCredentialID: String?, now: Date, logger: Logger
    ) async throws -> BrowserToken {
        guard let connectionID = configuration.credentialConnectionID else {
            throw ConferenceSetupError(missingFields: ["credential_connection_id"], provider: .telnyx)
        }
        if let storedCredentialID {
            do {
                let token = try await loginToken(credentialID: storedCredentialID, logger: logger)
                return BrowserToken(token: token, expiresAt: now.addingTimeInterval(Self.loginTokenLifetime))
            } catch ProviderError.rejected(let status, _) where status == 404 || status == 422 {
                // Deleted or expired at Telnyx: make a new one below.
                logger.notice("stored Telnyx telephony credential no longer usable; creating a new one")
            }
        }
        let response = try await send(
            .post, "/telephony_credentials",
            json: ["connection_id": connectionID, "name": "switchboard-\(clientID)".prefix(100).description], logger: logger)
        // The answer also carries the SIP username and password: read the id only.
        guard let data = response.jsonObject()?["data"] as? [String: Any], let id = data["id"] as? String else {
            throw ProviderError.invalidResponse("Telnyx's telephony credential has no data.id")
        }
        let token = try await loginToken(credentialID: id, logger: logger)
        return BrowserToken(
            token: token, expiresAt: now.addingTimeInterval(Self.loginTokenLifetime), createdCredentialID: id)
    }

    /// `POST /telephony_credentials/{id}/token` answers the JWT as plain text, and is asked for it
    /// the way Telnyx's SDK asks: no body, `Accept: text/plain`.
    func loginToken(credentialID: String, logger: Logger) async throws -> String {
        let response = try await send(
            .post, "/telephony_credentials/\(ProviderHTTPClient.pathEscape(credentialID))/token", accept: "text/plain",
            logger: logger)
        let token = String(decoding: response.body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard token.split(separator: ".").count == 3 else {
            throw ProviderError.invalidResponse("Telnyx's login token is not a JWT")
        }
        return token
    }

    /// Call Control call, conference and recording events.
    public func parseConferenceEvent(_ request: WebhookRequest) throws -> ProviderConferenceEvent {
        guard let root = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any],
            let data = root["data"] as? [String: Any], let type = data["event_type"] as? String,
            let id = data["id"] as? String, let payload = data["payload"] as? [String: Any]
        else {
            throw ProviderError.invalidResponse("Telnyx event without data.id, event_type or payload")
        }
        let occurredAt = ((data["occurred_at"] ?? payload["occurred_at"]) as? String).flatMap(ISO8601Timestamp.parse)
        let state = (payload["client_state"] as? String).flatMap { Data(base64Encoded: $0) }.map {
            String(decoding: $0, as: UTF8.self)
        }
        let kind: ProviderConferenceEvent.Kind
        var recording: ProviderConferenceEvent.Recording?
        switch type {
        case "call.initiated": kind = .callInitiated
        case "call.answered": kind = .callAnswered
        case "call.hangup": kind = .callEnded
        case "conference.created": kind = .conferenceStarted
        case "conference.ended": kind = .conferenceEnded
        case "conference.participant.joined": kind = .participantJoined
        case "conference.participant.left": kind = .participantLeft
        case "call.recording.saved":
            let urls = payload["recording_urls"] as? [String: Any]
            guard let url = (urls?["mp3"] as? String) ?? (urls?["wav"] as? String) else {
                throw ProviderError.invalidResponse("call.recording.saved without recording_urls")
            }
            let started = (payload["recording_started_at"] as? String).flatMap(ISO8601Timestamp.parse)
            let ended = (payload["recording_ended_at"] as? String).flatMap(ISO8601Timestamp.parse)
            let duration = zip2(started, ended).map { max(0, Int($1.timeIntervalSince($0).rounded())) }
            recording = .init(id: payload["recording_id"] as? String, url: url, durationSeconds: duration)
            kind = .recordingCompleted
        default: kind = .other(type)
        }
        return ProviderConferenceEvent(
            eventKey: id, kind: kind, providerConferenceID: payload["conference_id"] as? String,
            // call.recording.saved has no call_control_id (telnyx-python `types/call_recording_saved.py`):
            // its leg is found by client_state or call_leg_id.
            providerCallID: payload["call_control_id"] as? String, providerLegID: payload["call_leg_id"] as? String,
            clientState: state, direction: payload["direction"] as? String, occurredAt: occurredAt, recording: recording)
    }
}

private func zip2<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
    guard let a, let b else { return nil }
    return (a, b)
}
