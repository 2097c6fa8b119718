import Foundation

#if canImport(FoundationXML)
import FoundationXML
#endif

/// One element of a parsed XML document.
struct XMLNode: Sendable, Equatable {
    var name: String
    var attributes: [String: String]
    var children: [XMLNode]
    /// The element's own character data, concatenated.
    var text: String
}

/// Builds an element tree while `XMLParser` reads.
private final class XMLTreeBuilder: NSObject, XMLParserDelegate {
    private var stack: [XMLNode] = []
    private(set) var root: XMLNode?

    /// Opens an element.
    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName qName: String?,
        attributes attributeDict: [String: String] = [:]
    ) {
        stack.append(XMLNode(name: elementName, attributes: attributeDict, children: [], text: ""))
    }

    /// Closes an element into its parent (or the root).
    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
        guard let node = stack.popLast() else { return }
        if stack.isEmpty {
            root = node
        } else {
            stack[stack.count - 1].children.append(node)
        }
    }

    /// Collects character data.
    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard !stack.isEmpty else { return }
        stack[stack.count - 1].text += string
    }

    /// Collects CDATA as character data.
    func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
        guard !stack.isEmpty else { return }
        stack[stack.count - 1].text += String(decoding: CDATABlock, as: UTF8.self)
    }
}

/// A `<Conference>` noun inside `<Dial>`, with Twilio's defaults applied.
struct TwiMLConference: Sendable, Equatable {
    var name: String
    var muted: Bool
    var startConferenceOnEnter: Bool
    var endConferenceOnExit: Bool
    var statusCallback: String?
    var statusCallbackMethod: String
    /// Subscribed events among start, end, join, leave, mute, hold (others are accepted and ignored).
    var statusCallbackEvents: Set<String>
    /// `record="record-from-start"` (default `do-not-record`).
    var record: Bool = false
    var recordingStatusCallback: String?
    var recordingStatusCallbackMethod: String = "POST"
}

/// What a TwiML document asks of a call, as far as the simulator acts on it.
enum TwiMLInstruction: Sendable, Equatable {
    /// `<Hangup/>`: end the call.
    case hangUp
    /// `<Dial><Conference>`: join the named conference; the call ends when the conference does.
    case joinConference(TwiMLConference)
    /// Any other verb (e.g. `<Connect><Stream>`): the simulator leaves the call as it is.
    case unsupported(String)
}

/// Twilio's TwiML, as much as the simulator executes.
enum TwiML {
    /// The conference events Twilio reports; `modify`, `speaker` and `announcement` are accepted but never sent.
    static let conferenceEvents: Set<String> = ["start", "end", "join", "leave", "mute", "hold"]
    /// Verbs that only play something and then let the next verb run.
    private static let passingVerbs: Set<String> = ["Say", "Play", "Pause"]

    /// Parses `document` and finds what it asks; relative callback URLs resolve against `baseURL` (the TwiML's URL).
    /// Fails, as Twilio's application error does, on a document that is not TwiML.
    static func interpret(_ document: [UInt8], baseURL: String?) -> Result<TwiMLInstruction, TwiMLError> {
        let builder = XMLTreeBuilder()
        let parser = XMLParser(data: Data(document))
        parser.shouldResolveExternalEntities = false
        parser.delegate = builder
        guard parser.parse(), let root = builder.root else {
            return .failure(.init(code: 12100, message: "Document parse failure"))
        }
        guard root.name == "Response" else {
            return .failure(.init(code: 12100, message: "The root element must be <Response>, not <\(root.name)>"))
        }
        for verb in root.children {
            if passingVerbs.contains(verb.name) { continue }
            switch verb.name {
            case "Hangup":
                return .success(.hangUp)
            case "Dial":
                guard let noun = verb.children.first(where: { $0.name == "Conference" }) else {
                    return .success(.unsupported("Dial"))
                }
                return conference(noun, baseURL: baseURL).map(TwiMLInstruction.joinConference)
            default:
                return .success(.unsupported(verb.name))
            }
        }
        return .success(.unsupported("Response"))
    }

    /// Reads a `<Conference>` noun's name and attributes.
    private static func conference(_ noun: XMLNode, baseURL: String?) -> Result<TwiMLConference, TwiMLError> {
        let name = noun.text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty else {
            return .failure(.init(code: 12200, message: "<Conference> needs a conference name"))
        }
        func flag(_ attribute: String, default value: Bool) -> Result<Bool, TwiMLError> {
            guard let text = noun.attributes[attribute] else { return .success(value) }
            switch text.lowercased() {
            case "true": return .success(true)
            case "false": return .success(false)
            default: return .failure(.init(code: 12200, message: "\(attribute) must be true or false, not \(text)"))
            }
        }
        let muted: Bool
        let starts: Bool
        let ends: Bool
        switch (
            flag("muted", default: false), flag("startConferenceOnEnter", default: true),
            flag("endConferenceOnExit", default: false)
        ) {
        case (.success(let a), .success(let b), .success(let c)): (muted, starts, ends) = (a, b, c)
        case (.failure(let error), _, _), (_, .failure(let error), _), (_, _, .failure(let error)): return .failure(error)
        }
        var callback: String?
        if let text = noun.attributes["statusCallback"], !text.isEmpty {
            let resolved = URL(string: text, relativeTo: baseURL.flatMap(URL.init(string:)))?.absoluteString
            guard let resolved, isAbsoluteHTTPURL(resolved) else {
                return .failure(.init(code: 12200, message: "statusCallback is not a valid URL: \(text)"))
            }
            callback = resolved
        }
        let method = noun.attributes["statusCallbackMethod"]?.uppercased() ?? "POST"
        guard method == "POST" || method == "GET" else {
            return .failure(.init(code: 12200, message: "statusCallbackMethod must be GET or POST"))
        }
        var events: Set<String> = []
        if let text = noun.attributes["statusCallbackEvent"] {
            for word in text.split(whereSeparator: { $0 == " " || $0 == "," }).map({ $0.lowercased() }) {
                // Other words (modify, speaker, announcement, anything else) are accepted and ignored.
                if conferenceEvents.contains(word) { events.insert(word) }
            }
        } else if callback != nil {
            events = ["start", "end"]
        }
        var record = false
        switch noun.attributes["record"] {
        case nil, "do-not-record": break
        case "record-from-start": record = true
        case let other?:
            return .failure(.init(code: 12200, message: "record must be do-not-record or record-from-start, not \(other)"))
        }
        var recordingCallback: String?
        if let text = noun.attributes["recordingStatusCallback"], !text.isEmpty {
            let resolved = URL(string: text, relativeTo: baseURL.flatMap(URL.init(string:)))?.absoluteString
            guard let resolved, isAbsoluteHTTPURL(resolved) else {
                return .failure(.init(code: 12200, message: "recordingStatusCallback is not a valid URL: \(text)"))
            }
            recordingCallback = resolved
        }
        let recordingMethod = noun.attributes["recordingStatusCallbackMethod"]?.uppercased() ?? "POST"
        guard recordingMethod == "POST" || recordingMethod == "GET" else {
            return .failure(.init(code: 12200, message: "recordingStatusCallbackMethod must be GET or POST"))
        }
        return .success(
            TwiMLConference(
                name: name, muted: muted, startConferenceOnEnter: starts, endConferenceOnExit: ends,
                statusCallback: callback, statusCallbackMethod: method, statusCallbackEvents: events, record: record,
                recordingStatusCallback: recordingCallback, recordingStatusCallbackMethod: recordingMethod))
    }
}

/// Why Twilio could not execute a TwiML document (it plays an application error and hangs up).
struct TwiMLError: Error, Sendable, Equatable {
    /// Twilio's debugger code: 12100 parse failure, 12200 schema validation.
    var code: Int
    var message: String
}
