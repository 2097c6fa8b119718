import Foundation
import ProviderSimulators
import Testing

/// The simulators against the providers' published definitions: example payloads, field lists and
/// enumerations copied into `Tests/Fixtures/Published` (each directory's SOURCES.md names the
/// published file: twilio-oai `twilio_api_v2010.json`, telnyx-python, Vonage's api-specification
/// and webhook reference, plivo-python). A simulator field the real API never sends, a status it
/// never uses or an answer shaped otherwise fails here, so the simulators cannot drift again.
@Suite struct FidelityTests {
    static func fixture(_ path: String) throws -> [String: Any] {
        let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        let data = try Data(contentsOf: tests.appendingPathComponent("Fixtures/Published/\(path)"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func strings(_ path: String, _ key: String) throws -> Set<String> {
        Set(try #require(try fixture(path)[key] as? [String]))
    }

    /// Fails naming the keys `actual` has beyond `published`.
    static func expectOnlyPublished(
        _ actual: some Collection<String>, _ published: some Collection<String>, _ what: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let extra = Set(actual).subtracting(published)
        #expect(extra.isEmpty, "\(what) has fields the published definition does not: \(extra.sorted())",
            sourceLocation: sourceLocation)
    }

    static func expectAllPublished(
        _ actual: some Collection<String>, _ published: some Collection<String>, _ what: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let missing = Set(published).subtracting(actual)
        #expect(missing.isEmpty, "\(what) lacks published fields: \(missing.sorted())", sourceLocation: sourceLocation)
    }

    /// RFC 3339 with microseconds, as Telnyx writes `occurred_at`.
    static func isMicrosecondTimestamp(_ text: String?) -> Bool {
        text?.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z/) != nil
    }

    // MARK: - Telnyx

    @Test func telnyxCallEventsAndRecordingMatchThePublishedPayloads() async throws {
        try await SimulatorHarness.run { harness in
            let headers = [("Authorization", "Bearer " + harness.telnyx.apiKey), ("Content-Type", "application/json")]
            func dial(_ to: String, record: Bool) async throws {
                var body: [String: Any] = [
                    "connection_id": harness.telnyx.connectionIDs[0], "to": to, "from": harness.telnyx.numbers[0],
                    "webhook_url": harness.receiver.url("/t/\(to.dropFirst())"),
                    "client_state": Data("fidelity".utf8).base64EncodedString(),
                ]
                if record { body["record"] = "record-from-answer" }
                let response = try await harness.send(
                    "POST", harness.urls.telnyx + "/calls", headers: headers, body: try SimulatorHarness.json(body))
                #expect(response.status == 200, "\(response.bodyText)")
            }
            try await dial("+14155550100", record: true)
            // The simulator's busy, no-answer and failed numbers.
            for number in ["+14155550486", "+14155550404", "+14155550500"] { try await dial(number, record: false) }
            let answered = await harness.receiver.wait(for: 4, at: "/t/14155550100")
            var received = answered
            for number in ["14155550486", "14155550404", "14155550500"] {
                received += await harness.receiver.wait(for: 2, at: "/t/\(number)")
            }

            let causes = try Self.strings("telnyx/hangup_causes.json", "hangup_cause")
            let sources = try Self.strings("telnyx/hangup_causes.json", "hangup_source")
            var seenCauses: Set<String> = []
            for request in received {
                let root = try #require(request.jsonObject())
                let data = try #require(root["data"] as? [String: Any])
                let type = try #require(data["event_type"] as? String)
                let payload = try #require(data["payload"] as? [String: Any])
                #expect(Self.isMicrosecondTimestamp(data["occurred_at"] as? String), "\(type) occurred_at")
                Self.expectAllPublished(data.keys, ["record_type", "event_type", "id", "occurred_at", "payload"], type)
                let publishedPayload: Set<String>
                if type == "call.recording.saved" {
                    publishedPayload = try Self.strings("telnyx/call.recording.saved.fields.json", "payload_fields")
                    // Exactly the schema's fields: no call_control_id, no recording_id.
                    Self.expectAllPublished(payload.keys, publishedPayload, type)
                    for key in ["recording_started_at", "recording_ended_at"] {
                        #expect(Self.isMicrosecondTimestamp(payload[key] as? String), "\(key)")
                    }
                } else {
                    let example = try Self.fixture("telnyx/\(type).json")
                    publishedPayload = Set(
                        try #require(((example["data"] as? [String: Any])?["payload"] as? [String: Any])?.keys))
                }
                Self.expectOnlyPublished(payload.keys, publishedPayload, type)
                if type == "call.hangup" {
                    let cause = try #require(payload["hangup_cause"] as? String)
                    #expect(causes.contains(cause), "\(cause)")
                    seenCauses.insert(cause)
                    if let source = payload["hangup_source"] as? String { #expect(sources.contains(source)) }
                }
            }
            #expect(seenCauses.isSuperset(of: ["normal_clearing", "user_busy", "timeout", "not_found"]), "\(seenCauses)")
        }
    }

    @Test func telnyxConferenceEventsMatchThePublishedPayloads() async throws {
        try await SimulatorHarness.run(settings: SimulatorHarness.talking) { harness in
            let headers = [("Authorization", "Bearer " + harness.telnyx.apiKey), ("Content-Type", "application/json")]
            let created = try await harness.send(
                "POST", harness.urls.telnyx + "/calls", headers: headers,
                body: try SimulatorHarness.json([
                    "connection_id": harness.telnyx.connectionIDs[0], "to": "+14155550100",
                    "from": harness.telnyx.numbers[0], "webhook_url": harness.receiver.url("/c"),
                ]))
            let call = try #require((created.json()?["data"] as? [String: Any])?["call_control_id"] as? String)
            _ = await harness.receiver.wait(for: 2, at: "/c")
            let conference = try await harness.send(
                "POST", harness.urls.telnyx + "/conferences", headers: headers,
                body: try SimulatorHarness.json(["call_control_id": call, "name": "fidelity"]))
            let id = try #require((conference.json()?["data"] as? [String: Any])?["id"] as? String)
            _ = try await harness.send(
                "POST", harness.urls.telnyx + "/conferences/\(id)/actions/end", headers: headers, body: Array("{}".utf8))
            #expect(
                await SimulatorHarness.eventually {
                    harness.receiver.requests(at: "/c").contains { $0.bodyText.contains("conference.ended") }
                })
            for name in ["conference.participant.left", "conference.ended"] {
                let request = try #require(harness.receiver.requests(at: "/c").first { $0.bodyText.contains("\"\(name)\"") })
                let data = try #require(request.jsonObject()?["data"] as? [String: Any])
                let payload = try #require(data["payload"] as? [String: Any])
                let example = try Self.fixture("telnyx/\(name).json")
                let published = try #require((example["data"] as? [String: Any])?["payload"] as? [String: Any])
                Self.expectOnlyPublished(payload.keys, published.keys, name)
                // conference.ended has occurred_at in its payload and none in data; the others in data.
                let occurred = name == "conference.ended" ? payload["occurred_at"] : data["occurred_at"]
                #expect(Self.isMicrosecondTimestamp(occurred as? String), "\(name)")
                Self.expectOnlyPublished(data.keys, try #require((example["data"] as? [String: Any])?.keys), name)
                if name == "conference.ended" {
                    #expect(["all_left", "host_left", "time_exceeded"].contains(payload["reason"] as? String ?? ""))
                }
            }
        }
    }

    @Test func telnyxNumberPagesMatchThePublishedListing() async throws {
        let extra = (0..<30).map { String(format: "+1415%07d", 3_000_000 + $0) }
        try await SimulatorHarness.run(configure: { $0.telnyx[0].numbers += extra }) { harness in
            let page = try await harness.send(
                "GET", harness.urls.telnyx + "/phone_numbers?page%5Bnumber%5D=1&page%5Bsize%5D=20",
                headers: [("Authorization", "Bearer " + harness.telnyx.apiKey)])
            #expect(page.status == 200)
            let published = try Self.fixture("telnyx/phone_numbers.page.json")
            let body = try #require(page.json())
            Self.expectAllPublished(body.keys, published.keys, "phone_numbers page")
            let meta = try #require(body["meta"] as? [String: Any])
            Self.expectAllPublished(meta.keys, try #require((published["meta"] as? [String: Any])?.keys), "meta")
            #expect(meta["total_pages"] as? Int == (harness.telnyx.numbers.count + 19) / 20)
            #expect((body["data"] as? [Any])?.count == 20)
            let item = try #require((body["data"] as? [[String: Any]])?.first)
            let publishedItem = try #require((published["data"] as? [[String: Any]])?.first)
            // The published item was trimmed to the fields Switchboard reads (SOURCES.md): all must be there.
            Self.expectAllPublished(item.keys, publishedItem.keys, "phone number")
            for bad in ["page%5Bsize%5D=251", "page%5Bsize%5D=0", "page%5Bnumber%5D=0"] {
                let refused = try await harness.send(
                    "GET", harness.urls.telnyx + "/phone_numbers?" + bad,
                    headers: [("Authorization", "Bearer " + harness.telnyx.apiKey)])
                #expect(refused.status == 400, "\(bad)")
            }
        }
    }

    // MARK: - Twilio

    @Test func twilioStatusCallbacksAndAnswersMatchThePublishedDefinition() async throws {
        try await SimulatorHarness.run { harness in
            let account = "\(harness.urls.twilio)/Accounts/\(harness.twilio.accountSID)"
            let auth = SimulatorHarness.basic(harness.twilio.accountSID, harness.twilio.authToken)
            harness.receiver.respond(to: "/twiml", with: "<Response><Say>hi</Say></Response>")
            let created = try await harness.send(
                "POST", account + "/Calls.json", headers: [auth, ("Content-Type", "application/x-www-form-urlencoded")],
                body: SimulatorHarness.form([
                    ("To", "+14155550100"), ("From", harness.twilio.numbers[0]), ("Url", harness.receiver.url("/twiml")),
                    ("StatusCallback", harness.receiver.url("/s")), ("StatusCallbackEvent", "initiated"),
                    ("StatusCallbackEvent", "ringing"), ("StatusCallbackEvent", "answered"),
                    ("StatusCallbackEvent", "completed"),
                ]))
            #expect(created.status == 201)
            let call = try #require(created.json())
            let publishedCall = try Self.fixture("twilio/call.json")
            Self.expectAllPublished(call.keys, publishedCall.keys, "Call resource")
            Self.expectOnlyPublished(call.keys, publishedCall.keys, "Call resource")
            let enums = try Self.fixture("twilio/enums.json")
            let statuses = Set(try #require(enums["call_status"] as? [String]))
            #expect(statuses.contains(call["status"] as? String ?? ""))
            // The resource's status enum has no "initiated"; the callback for the `initiated` event
            // (call_enum_event) reports CallStatus=initiated (the status-callback documentation).
            let callbackStatuses = statuses.union(["initiated"])

            let callbacks = await harness.receiver.wait(for: 4, at: "/s")
            let published = try Self.fixture("twilio/call_status_callback.json")
            // Callback parameters Twilio documents beyond the example (the "Request parameters"
            // table of the status-callback page: ForwardedFrom, CallerName, ParentCallSid,
            // StirVerstat, …) are allowed; nothing the documentation never names.
            let documented = Set(published.keys).union([
                "ForwardedFrom", "CallerName", "ParentCallSid", "CallToken", "StirVerstat", "StirPassportToken",
                "FromCity", "FromState", "FromZip", "FromCountry", "ToCity", "ToState", "ToZip", "ToCountry",
                "CalledCity", "CalledState", "CalledZip", "CalledCountry", "CallerCity", "CallerState", "CallerZip",
                "CallerCountry", "RecordingUrl", "RecordingSid", "RecordingDuration", "AnsweredBy",
            ])
            for callback in callbacks {
                Self.expectOnlyPublished(callback.parameters.map(\.0), documented, "status callback")
                #expect(callbackStatuses.contains(callback.parameter("CallStatus") ?? ""))
            }
            let completed = try #require(callbacks.last)
            #expect(completed.parameter("CallStatus") == "completed")
            // Duration is minutes rounded up, CallDuration seconds.
            let seconds = try #require(completed.parameter("CallDuration").flatMap(Int.init))
            let minutes = try #require(completed.parameter("Duration").flatMap(Int.init))
            #expect(minutes == (seconds + 59) / 60)
        }
    }

    /// The Participant resource (twilio-oai `api.v2010.account.conference.participant`) exactly,
    /// read one by one and in the list.
    @Test func twilioConferenceParticipantMatchesThePublishedResource() async throws {
        try await SimulatorHarness.run(settings: SimulatorHarness.talking) { harness in
            let account = "\(harness.urls.twilio)/Accounts/\(harness.twilio.accountSID)"
            let auth = SimulatorHarness.basic(harness.twilio.accountSID, harness.twilio.authToken)
            harness.receiver.respond(
                to: "/twiml", with: "<Response><Dial><Conference>fidelity-room</Conference></Dial></Response>")
            var sids: [String] = []
            for to in ["+14155550100", "+14155550101"] {
                let created = try await harness.send(
                    "POST", account + "/Calls.json", headers: [auth, ("Content-Type", "application/x-www-form-urlencoded")],
                    body: SimulatorHarness.form([
                        ("To", to), ("From", harness.twilio.numbers[0]), ("Url", harness.receiver.url("/twiml")),
                    ]))
                sids.append(try #require(created.json()?["sid"] as? String))
            }
            #expect(
                await SimulatorHarness.eventually {
                    harness.simulator.conferences().contains { $0.name == "fidelity-room" && $0.participants.count == 2 }
                })
            let conference = try #require(harness.simulator.conferences().first { $0.name == "fidelity-room" })
            let published = try Self.fixture("twilio/conference_participant.json")
            let one = try await harness.send(
                "GET", account + "/Conferences/\(conference.id)/Participants/\(sids[0]).json", headers: [auth])
            #expect(one.status == 200, "\(one.bodyText)")
            let resource = try #require(one.json())
            Self.expectAllPublished(resource.keys, published.keys, "Participant")
            Self.expectOnlyPublished(resource.keys, published.keys, "Participant")
            #expect(resource["status"] as? String == "connected")
            let list = try await harness.send(
                "GET", account + "/Conferences/\(conference.id)/Participants.json", headers: [auth])
            for item in try #require(list.json()?["participants"] as? [[String: Any]]) {
                Self.expectAllPublished(item.keys, published.keys, "listed Participant")
                Self.expectOnlyPublished(item.keys, published.keys, "listed Participant")
            }
        }
    }

    /// The status-callback documentation: `Duration` is "only present in the completed event";
    /// busy, no-answer and failed calls end without it.
    @Test func twilioDurationIsOnlyInTheCompletedCallback() async throws {
        try await SimulatorHarness.run(settings: SimulatorHarness.fast) { harness in
            let account = "\(harness.urls.twilio)/Accounts/\(harness.twilio.accountSID)"
            let auth = SimulatorHarness.basic(harness.twilio.accountSID, harness.twilio.authToken)
            harness.receiver.respond(to: "/twiml", with: "<Response><Say>hi</Say></Response>")
            let numbers = ["+14155550100", "+14155550486", "+14155550404", "+14155550500"]
            for number in numbers {
                let created = try await harness.send(
                    "POST", account + "/Calls.json", headers: [auth, ("Content-Type", "application/x-www-form-urlencoded")],
                    body: SimulatorHarness.form([
                        ("To", number), ("From", harness.twilio.numbers[0]), ("Url", harness.receiver.url("/twiml")),
                        ("StatusCallback", harness.receiver.url("/d/\(number.dropFirst())")),
                    ]))
                #expect(created.status == 201)
            }
            var ends: [String: WebhookReceiver.Received] = [:]
            for number in numbers {
                let callbacks = await harness.receiver.wait(for: 1, at: "/d/\(number.dropFirst())", timeout: .seconds(20))
                ends[number] = callbacks.last
            }
            #expect(ends.count == numbers.count, "\(ends.keys.sorted())")
            #expect(ends["+14155550100"]?.parameter("CallStatus") == "completed")
            #expect(ends["+14155550100"]?.parameter("Duration") != nil)
            for number in numbers.dropFirst() {
                let end = try #require(ends[number])
                #expect(["busy", "no-answer", "failed"].contains(end.parameter("CallStatus") ?? ""), "\(number)")
                #expect(end.parameter("Duration") == nil, "\(number): \(end.parameters)")
                #expect(end.parameter("CallDuration") != nil, "\(number)")
            }
        }
    }

    @Test func twilioNumberPagesFollowNextPageURI() async throws {
        let extra = (0..<7).map { String(format: "+1415%07d", 4_000_000 + $0) }
        try await SimulatorHarness.run(configure: { $0.twilio[0].numbers += extra }) { harness in
            let auth = SimulatorHarness.basic(harness.twilio.accountSID, harness.twilio.authToken)
            let published = try Self.fixture("twilio/incoming_phone_numbers.page.json")
            var url: String? = "\(harness.urls.twilio)/Accounts/\(harness.twilio.accountSID)/IncomingPhoneNumbers.json?PageSize=3"
            var seen: [String] = []
            var pages = 0
            while let next = url, pages < 10 {
                let page = try await harness.send("GET", next, headers: [auth])
                #expect(page.status == 200, "\(page.bodyText)")
                let body = try #require(page.json())
                Self.expectAllPublished(body.keys, published.keys, "IncomingPhoneNumbers page")
                Self.expectOnlyPublished(body.keys, published.keys, "IncomingPhoneNumbers page")
                #expect(body["page_size"] as? Int == 3)
                seen += (body["incoming_phone_numbers"] as? [[String: Any]] ?? []).compactMap { $0["phone_number"] as? String }
                url = (body["next_page_uri"] as? String).map { harness.urls.twilio.replacingOccurrences(of: "/2010-04-01", with: "") + $0 }
                pages += 1
            }
            #expect(seen == harness.twilio.numbers)
            #expect(pages == (harness.twilio.numbers.count + 2) / 3)
            let tooBig = try await harness.send(
                "GET", "\(harness.urls.twilio)/Accounts/\(harness.twilio.accountSID)/IncomingPhoneNumbers.json?PageSize=1001",
                headers: [auth])
            #expect(tooBig.status == 400)
            let forged = try await harness.send(
                "GET", "\(harness.urls.twilio)/Accounts/\(harness.twilio.accountSID)/IncomingPhoneNumbers.json?PageSize=3&Page=1",
                headers: [auth])
            #expect(forged.status == 400, "a later page without its PageToken")
        }
    }

    // MARK: - Vonage

    /// Every event the simulator sends, for an answered call (transferred, then hung up) and for busy,
    /// unanswered and failed ones, against the webhook reference's examples: status events against the
    /// example for their status, the status-less `transfer` event against `event.transfer.json`.
    @Test func vonageEventsMatchThePublishedExamples() async throws {
        try await SimulatorHarness.run(settings: SimulatorHarness.talking) { harness in
            let token = try IndependentVerifier.vonageApplicationJWT(
                privateKeyPEM: harness.vonagePrivateKeyPEM, applicationID: harness.vonage.applicationID)
            let headers = [("Authorization", "Bearer " + token), ("Content-Type", "application/json")]
            func dial(_ number: String) async throws -> String {
                let created = try await harness.send(
                    "POST", "\(harness.urls.vonage)/v1/calls", headers: headers,
                    body: try SimulatorHarness.json([
                        "to": [["type": "phone", "number": number]],
                        "from": ["type": "phone", "number": String(harness.vonage.numbers[0].dropFirst())],
                        "ncco": [["action": "talk", "text": "Hello"]],
                        "event_url": [harness.receiver.url("/v/\(number)")],
                    ]))
                #expect(created.status == 201)
                let call = try #require(created.json())
                Self.expectOnlyPublished(call.keys, try Self.fixture("vonage/create_call.response.json").keys, "create call")
                return try #require(call["uuid"] as? String)
            }
            // The simulator's answered, busy, no-answer and failed numbers.
            let answered = try await dial("14155550100")
            for number in ["14155550486", "14155550404", "14155550500"] { _ = try await dial(number) }
            _ = await harness.receiver.wait(for: 3, at: "/v/14155550100")
            let call = "\(harness.urls.vonage)/v1/calls/\(answered)"
            let refused = try await harness.send(
                "PUT", call, headers: headers, body: try SimulatorHarness.json(["action": "transfer"]))
            #expect(refused.status == 400, "a transfer without its destination")
            let transfer = try await harness.send(
                "PUT", call, headers: headers,
                body: try SimulatorHarness.json([
                    "action": "transfer",
                    "destination": ["type": "ncco", "ncco": [["action": "talk", "text": "Transferred"]]],
                ]))
            #expect(transfer.status == 204, "\(transfer.bodyText)")
            _ = await harness.receiver.wait(for: 4, at: "/v/14155550100")
            #expect(try await harness.send("PUT", call, headers: headers, body: try SimulatorHarness.json(["action": "hangup"])).status == 204)
            var events = await harness.receiver.wait(for: 5, at: "/v/14155550100")
            // Started, ringing, then busy or timeout; a failed call fails before it rings.
            for (number, count) in [("14155550486", 3), ("14155550404", 3), ("14155550500", 2)] {
                events += await harness.receiver.wait(for: count, at: "/v/\(number)")
            }

            let statuses = try Self.strings("vonage/event.statuses.json", "status")
            var seen: Set<String> = []
            for event in events {
                let body = try #require(event.jsonObject())
                let timestamp = try #require(body["timestamp"] as? String)
                #expect(timestamp.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/) != nil, "\(timestamp)")
                guard let status = body["status"] as? String else {
                    // The only status-less event the simulator sends: exactly the published transfer event.
                    let example = try Self.fixture("vonage/event.transfer.json")
                    Self.expectOnlyPublished(body.keys, example.keys, "transfer event")
                    Self.expectAllPublished(body.keys, example.keys, "transfer event")
                    #expect(body["uuid"] as? String == answered)
                    seen.insert("transfer")
                    continue
                }
                seen.insert(status)
                #expect(statuses.contains(status), "\(status)")
                let example = try Self.fixture("vonage/event.\(status).json")
                Self.expectOnlyPublished(body.keys, example.keys, "\(status) event")
                Self.expectAllPublished(body.keys, ["uuid", "conversation_uuid", "status", "timestamp"], "\(status) event")
            }
            #expect(
                seen == ["started", "ringing", "answered", "transfer", "completed", "busy", "timeout", "failed"],
                "\(seen.sorted())")
        }
    }

    @Test func vonageNumberPagesMatchThePublishedListing() async throws {
        let extra = (0..<12).map { String(format: "+1415%07d", 5_000_000 + $0) }
        try await SimulatorHarness.run(configure: { $0.vonage[0].numbers += extra }) { harness in
            func page(_ query: String) async throws -> HTTPResult {
                try await harness.send(
                    "GET",
                    "\(harness.urls.vonageRest)/account/numbers?api_key=\(harness.vonage.apiKey)&api_secret=\(harness.vonage.apiSecret)&\(query)")
            }
            let published = try Self.fixture("vonage/account_numbers.page.json")
            let first = try await page("size=10&index=1")
            #expect(first.status == 200, "\(first.bodyText)")
            let body = try #require(first.json())
            Self.expectOnlyPublished(body.keys, published.keys, "numbers page")
            #expect(body["count"] as? Int == harness.vonage.numbers.count)
            #expect((body["numbers"] as? [Any])?.count == 10)
            let item = try #require((body["numbers"] as? [[String: Any]])?.first)
            let publishedItem = try #require((published["numbers"] as? [[String: Any]])?.first)
            Self.expectOnlyPublished(item.keys, publishedItem.keys, "number")
            let second = try #require(try await page("size=10&index=2").json())
            #expect((second["numbers"] as? [Any])?.count == harness.vonage.numbers.count - 10)
            for bad in ["size=101", "size=0", "index=0"] {
                #expect(try await page(bad).status == 400, "\(bad)")
            }
        }
    }

    // MARK: - Plivo

    @Test func plivoCallbacksAndRecordsMatchThePublishedDefinition() async throws {
        try await SimulatorHarness.run { harness in
            let account = "\(harness.urls.plivo)/Account/\(harness.plivo.authID)/"
            let auth = SimulatorHarness.basic(harness.plivo.authID, harness.plivo.authToken)
            let created = try await harness.send(
                "POST", account + "Call/", headers: [auth, ("Content-Type", "application/json")],
                body: try SimulatorHarness.json([
                    "from": harness.plivo.numbers[0], "to": "14155550100",
                    "answer_url": harness.receiver.url("/p/answer"), "ring_url": harness.receiver.url("/p/ring"),
                    "hangup_url": harness.receiver.url("/p/hangup"),
                ]))
            #expect(created.status == 201)
            let body = try #require(created.json())
            Self.expectOnlyPublished(body.keys, try Self.fixture("plivo/call_create.response.json").keys, "create call")
            let statuses = try Self.strings("plivo/callback.call_status.values.json", "CallStatus")
            // Hang-up names the simulator sends that SOURCES.md marks "not confirmed as callback parameter
            // names" (the hangup-causes page says the information is in the hangup_url payload, unnamed).
            let unconfirmedHangupNames: Set<String> = ["HangupCauseName", "HangupSource", "HangupCauseCode", "TotalCost"]
            let callbacks = await harness.receiver.wait(for: 3)
            #expect(callbacks.count == 3)
            for (callback, name) in zip(callbacks, ["ring", "answer", "hangup"]) {
                let published = try Self.fixture("plivo/callback.\(name).json")
                let names = callback.parameters.map(\.0)
                Self.expectAllPublished(names, ["CallUUID", "RequestUUID", "ALegRequestUUID", "CallStatus", "Event"], name)
                // Only the names the page lists for this URL (plus, on hangups, the unconfirmed ones above).
                let allowed = Set(published.keys).union(name == "hangup" ? unconfirmedHangupNames : [])
                Self.expectOnlyPublished(names, allowed, "\(name) callback")
                #expect(statuses.contains(callback.parameter("CallStatus") ?? ""), "\(name)")
                #expect(callback.parameter("Event") == published["Event"] as? String)
            }
            let callUUID = try #require(callbacks.last?.parameter("CallUUID"))
            let record = try await harness.send("GET", account + "Call/\(callUUID)/", headers: [auth])
            #expect(record.status == 200)
            let recordBody = try #require(record.json())
            let published = try Self.fixture("plivo/call_get.response.json")
            Self.expectAllPublished(recordBody.keys, published.keys, "call record")
            // Beyond the SDK fixture, only what the documented CDR example has (call_state, hangup_*).
            let documented = try Self.fixture("plivo/call_get.cdr_docs.response.json")
            Self.expectOnlyPublished(recordBody.keys, Set(published.keys).union(documented.keys), "call record")
            #expect(recordBody["call_state"] as? String == documented["call_state"] as? String)
        }
    }

    /// plivo-python's live view (`liveCallGetResponse.json`, also the live-id list) and plivo-dotnet's
    /// queued view (`queuedCallGetResponse.json`), key for key.
    @Test func plivoQueuedAndLiveViewsMatchThePublishedFixtures() async throws {
        let settings = CallScenarioSettings(ringDelay: .seconds(5), answerDelay: .milliseconds(20), talkTime: .seconds(60))
        try await SimulatorHarness.run(settings: settings) { harness in
            let account = "\(harness.urls.plivo)/Account/\(harness.plivo.authID)/"
            let auth = SimulatorHarness.basic(harness.plivo.authID, harness.plivo.authToken)
            let created = try await harness.send(
                "POST", account + "Call/", headers: [auth, ("Content-Type", "application/json")],
                body: try SimulatorHarness.json([
                    "from": harness.plivo.numbers[0], "to": "14155550100", "answer_url": harness.receiver.url("/q/answer"),
                    "ring_url": harness.receiver.url("/q/ring"),
                ]))
            let request = try #require(created.json()?["request_uuid"] as? String)
            let queued = try await harness.send("GET", account + "Call/\(request)/?status=queued", headers: [auth])
            #expect(queued.status == 200, "\(queued.bodyText)")
            let queuedBody = try #require(queued.json())
            let publishedQueued = try Self.fixture("plivo/queued_call_get.response.json")
            Self.expectAllPublished(queuedBody.keys, publishedQueued.keys, "queued call")
            Self.expectOnlyPublished(queuedBody.keys, publishedQueued.keys, "queued call")
            #expect(queuedBody["call_status"] as? String == "queued")

            let ring = try #require(await harness.receiver.wait(for: 1, at: "/q/ring").first)
            let callUUID = try #require(ring.parameter("CallUUID"))
            let ids = try await harness.send("GET", account + "Call/?status=live", headers: [auth])
            #expect((ids.json()?["calls"] as? [String])?.contains(callUUID) == true, "\(ids.bodyText)")
            let live = try await harness.send("GET", account + "Call/\(callUUID)/?status=live", headers: [auth])
            #expect(live.status == 200, "\(live.bodyText)")
            let liveBody = try #require(live.json())
            let publishedLive = try Self.fixture("plivo/live_call_get.response.json")
            Self.expectAllPublished(liveBody.keys, publishedLive.keys, "live call")
            Self.expectOnlyPublished(liveBody.keys, publishedLive.keys, "live call")
            #expect(liveBody["request_uuid"] as? String == request)
            #expect(["ringing", "in-progress"].contains(liveBody["call_status"] as? String ?? ""))
            // A live call has no record yet, and a request is no longer queued once it rings.
            #expect(try await harness.send("GET", account + "Call/\(callUUID)/", headers: [auth]).status == 404)
            #expect(try await harness.send("GET", account + "Call/\(request)/?status=queued", headers: [auth]).status == 404)
        }
    }

    @Test func plivoNumberPagesMatchThePublishedListing() async throws {
        let extra = (0..<25).map { String(format: "+1415%07d", 6_000_000 + $0) }
        try await SimulatorHarness.run(configure: { $0.plivo[0].numbers += extra }) { harness in
            let account = "\(harness.urls.plivo)/Account/\(harness.plivo.authID)/"
            let auth = SimulatorHarness.basic(harness.plivo.authID, harness.plivo.authToken)
            let published = try Self.fixture("plivo/number_list.response.json")
            let first = try await harness.send("GET", account + "Number/?limit=20&offset=0", headers: [auth])
            let body = try #require(first.json())
            Self.expectAllPublished(body.keys, published.keys, "number list")
            let meta = try #require(body["meta"] as? [String: Any])
            Self.expectAllPublished(meta.keys, try #require((published["meta"] as? [String: Any])?.keys), "meta")
            #expect((body["objects"] as? [Any])?.count == 20)
            #expect(meta["total_count"] as? Int == harness.plivo.numbers.count)
            let next = try #require(meta["next"] as? String)
            #expect(next.contains("offset=20"))
            let last = try #require(try await harness.send("GET", account + "Number/?limit=20&offset=20", headers: [auth]).json())
            #expect((last["objects"] as? [Any])?.count == harness.plivo.numbers.count - 20)
            #expect((last["meta"] as? [String: Any])?["next"] is NSNull)
            for bad in ["limit=21", "limit=0", "offset=-1"] {
                #expect(try await harness.send("GET", account + "Number/?\(bad)", headers: [auth]).status == 400, "\(bad)")
            }
        }
    }
}
