/// Where each simulated API lives; use these in place of the real base URLs.
public struct SimulatorBaseURLs: Sendable, Equatable {
    /// In place of `https://api.twilio.com/2010-04-01`.
    public var twilio: String
    /// In place of `https://api.telnyx.com/v2`.
    public var telnyx: String
    /// In place of `https://api.nexmo.com`.
    public var vonage: String
    /// In place of `https://rest.nexmo.com`.
    public var vonageRest: String
    /// In place of `https://api.plivo.com/v1`.
    public var plivo: String
    /// The simulator's own settings route: `POST {"api_fault": "none" | "stall" | "server_error"}` here.
    public var settings: String

    /// The base URLs of a simulator listening on `127.0.0.1:port`.
    public init(port: Int) {
        let root = "http://127.0.0.1:\(port)"
        twilio = root + "/twilio/2010-04-01"
        telnyx = root + "/telnyx/v2"
        vonage = root + "/vonage"
        vonageRest = root + "/vonage-rest"
        plivo = root + "/plivo/v1"
        settings = root + "/_sim/settings"
    }
}
