import Hummingbird

/// `GET /console/dialer`: where agents land. The dialer itself (contacts with Call buttons, the
/// call panel) is the next part of the console; until then the page says so.
struct ConsoleDialerController {
    func addRoutes(to router: Router<AppRequestContext>) {
        ConsoleRoutes.on(router, .get, "/dialer") { _, context in
            struct Content: Sendable {}
            return try ConsoleRenderer.require().render(
                "dialer", .init(layout: ConsoleRenderer.layout(title: "Dialer", page: .dialer, context: context), content: Content()),
                logger: context.logger)
        }
    }
}
