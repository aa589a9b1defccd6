/// The journal (`journal:`): how long its history is kept.
public struct JournalSettings: Sendable, Hashable {
    /// Finished events and ended promotions older than this many days are pruned in the
    /// background. Deliveries are recognised as repeats for 30 days only while their events are kept.
    public var keepDays = 30
}
