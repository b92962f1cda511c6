import Foundation

/// One sample of the metrics history: what happened in the `seconds` before `time`.
package struct MetricsSample: Sendable, Equatable {
    package var time: Date
    package var seconds: Double
    package var requests: Int64
    package var errors4xx: Int64
    package var errors5xx: Int64
    package var bytesIn: Int64
    package var bytesOut: Int64
    /// Request latency quantiles in the interval, seconds; nil without requests.
    package var p50: Double?
    package var p95: Double?
    package var p99: Double?
    package var inFlight: Int64
    /// Catalog totals at `time`.
    package var storageBytes: Int64
    package var objects: Int64

    package init(
        time: Date, seconds: Double, requests: Int64 = 0, errors4xx: Int64 = 0, errors5xx: Int64 = 0,
        bytesIn: Int64 = 0, bytesOut: Int64 = 0, p50: Double? = nil, p95: Double? = nil, p99: Double? = nil,
        inFlight: Int64 = 0, storageBytes: Int64 = 0, objects: Int64 = 0
    ) {
        self.time = time
        self.seconds = seconds
        self.requests = requests
        self.errors4xx = errors4xx
        self.errors5xx = errors5xx
        self.bytesIn = bytesIn
        self.bytesOut = bytesOut
        self.p50 = p50
        self.p95 = p95
        self.p99 = p99
        self.inFlight = inFlight
        self.storageBytes = storageBytes
        self.objects = objects
    }
}

/// The sampled time series behind the console's charts, kept in the catalog with a retention.
package protocol MetricsHistoryStore: Sendable {
    func appendSample(_ sample: MetricsSample) async throws
    /// Samples with `since <= time < until`, oldest first, at most `limit` (the newest ones when there are more).
    func samples(since: Date, until: Date, limit: Int) async throws -> [MetricsSample]
    func pruneSamples(before date: Date) async throws -> Int
}
