/// The words a `calls` row uses before (or instead of) the provider's own statuses, as stored in SQL.
public enum CallRowState: String, Sendable {
    /// `calls.status` while the provider request is in flight: the row is not shown and takes no events.
    case initiating
    /// `calls.raw_status` of a `failed` call the provider never confirmed (it may exist at the provider).
    case unconfirmed
}
