/// One deadline for every retry made on behalf of one piece of work (an event's write-back):
/// the workers' own tries and the HTTP retries of the forge calls inside them share it, so
/// retries no longer multiply across layers. Set with `RetryBudget.$deadline.withValue`; a wait
/// that would end past it is not made.
public enum RetryBudget {
    @TaskLocal public static var deadline: ContinuousClock.Instant?

    /// Whether waiting `delay` before another try still ends within the budget.
    public static func allows(_ delay: Duration) -> Bool {
        guard let deadline else { return true }
        return ContinuousClock.now + delay < deadline
    }
}
