/// What each metric means: the `# HELP` lines of `GET /metrics`, and the README's table.
extension ServiceMetrics {
    public static let help: [String: String] = [
        "imagebump_build_info": "Always 1; the version label says which imagebump runs.",
        "imagebump_http_requests_total": "HTTP requests answered, by route (hooks, events, healthz, readyz, metrics, other) and status.",
        "imagebump_http_request_duration_seconds": "Time to answer an HTTP request, by route.",
        "imagebump_deliveries_total":
            "Deliveries by receiver and outcome: accepted, duplicate, ignored, unauthorized, undecodable, limited, unmanaged, merged, closed.",
        "imagebump_events_finished_total": "Events that reached a final status: done, failed, ignored, skipped, superseded.",
        "imagebump_writebacks_total": "Write-backs (one per target and batch) by target and outcome: pushed, up_to_date, failed.",
        "imagebump_writeback_duration_seconds": "Time of one write-back (fetch, edit, commit, push, merge request), by target.",
        "imagebump_batch_events": "Events written by one write-back (coalesced in the batch window).",
        "imagebump_pending_jobs": "Jobs waiting in the repository lanes.",
        "imagebump_leader": "1 on the replica holding the leader lease (several replicas on one PostgreSQL journal), 0 on the others; absent with one replica.",
        "imagebump_forge_requests_total": "Requests to forge APIs by host and status (or the failure: timeout, unreachable, tls, …).",
        "imagebump_forge_request_duration_seconds": "Time of one forge API request, by host.",
        "imagebump_registry_requests_total": "Requests to registries and their token services by host and status (or the failure).",
        "imagebump_registry_request_duration_seconds": "Time of one registry request, by host.",
        "imagebump_poll_rounds_total": "Rounds of the registry poller.",
        "imagebump_poll_tags_found_total": "Tags read from registries by the poller.",
        "imagebump_poll_events_total": "Events the poller created (tags no webhook brought).",
        "imagebump_poll_failures_total": "Images whose registry could not be read in a round, by image.",
        "imagebump_promotions": "Promotions in the journal by state.",
        "imagebump_journal_bytes": "Size of the journal's files (database and write-ahead log).",
    ]

    /// The exposition with a `# HELP` line before each `# TYPE` line whose metric is known.
    public static func withHelp(_ exposition: [UInt8]) -> [UInt8] {
        let text = String(decoding: exposition, as: UTF8.self)
        var out = ""
        out.reserveCapacity(text.utf8.count + 4096)
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("# TYPE "), let name = line.dropFirst(7).split(separator: " ").first, let help = help[String(name)] {
                out += "# HELP \(name) \(help)\n"
            }
            out += line
            out += "\n"
        }
        if out.hasSuffix("\n\n") { out.removeLast() }
        return Array(out.utf8)
    }
}
