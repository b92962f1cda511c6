import Foundation
import MaxIOCore
import Synchronization

/// Request metrics of the S3 front, in Prometheus text format. Labels are bounded: the S3 operation (a fixed set)
/// and the status class; never a bucket or key. One lock per request.
package final class S3Metrics: Sendable {
    static let bounds: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

    struct OperationStats {
        /// Requests by status class 1xx...5xx.
        var byClass = [UInt64](repeating: 0, count: 5)
        /// Cumulative-to-be histogram counts per bound, plus +Inf.
        var buckets = [UInt64](repeating: 0, count: S3Metrics.bounds.count + 1)
        var seconds = 0.0
        var count: UInt64 = 0

        mutating func record(cls: Int, bucket: Int, seconds: Double) {
            byClass[cls] += 1
            buckets[bucket] += 1
            self.seconds += seconds
            count += 1
        }
    }

    private let operations = Mutex<[String: OperationStats]>([:])
    private let inFlight = Atomic<Int>(0)
    private let bytesIn = Atomic<UInt64>(0)
    private let bytesOut = Atomic<UInt64>(0)
    private let started = Date()

    package init() {}

    /// Counts a request in; returns how many are in flight now, this one included.
    @discardableResult
    func begin() -> Int { inFlight.wrappingAdd(1, ordering: .relaxed).newValue }

    func end(operation: String, status: Int, seconds: Double, received: Int, sent: Int) {
        inFlight.subtract(1, ordering: .relaxed)
        if received > 0 { bytesIn.add(UInt64(received), ordering: .relaxed) }
        if sent > 0 { bytesOut.add(UInt64(sent), ordering: .relaxed) }
        let cls = min(max(status / 100, 1), 5) - 1
        let bucket = Self.bounds.firstIndex { seconds <= $0 } ?? Self.bounds.count
        operations.withLock { ops in
            // In place (no copy of the arrays per request).
            ops[operation, default: OperationStats()].record(cls: cls, bucket: bucket, seconds: seconds)
        }
    }

    /// Totals since start-up, for the sampled history.
    package struct Snapshot: Sendable, Equatable {
        package var requests: UInt64 = 0
        /// Answers by status class: [1xx, 2xx, 3xx, 4xx, 5xx].
        package var byClass = [UInt64](repeating: 0, count: 5)
        package var bytesIn: UInt64 = 0
        package var bytesOut: UInt64 = 0
        /// Request durations of every operation together, per bound of `S3Metrics.bounds` plus +Inf.
        package var histogram = [UInt64](repeating: 0, count: S3Metrics.bounds.count + 1)
        package var inFlight = 0

        package init() {}

        /// The `q` quantile (0...1) of the requests between `earlier` and this snapshot, in seconds,
        /// interpolated within a histogram bucket; nil when there were none.
        package func quantile(_ q: Double, since earlier: Snapshot) -> Double? {
            let delta = zip(histogram, earlier.histogram).map { $0 &- $1 }
            let total = delta.reduce(0, +)
            guard total > 0 else { return nil }
            let rank = q * Double(total)
            var seen: UInt64 = 0
            for (i, n) in delta.enumerated() {
                if n > 0 && Double(seen + n) >= rank {
                    let lower = i == 0 ? 0 : S3Metrics.bounds[i - 1]
                    let upper = i < S3Metrics.bounds.count ? S3Metrics.bounds[i] : lower * 2
                    let fraction = (rank - Double(seen)) / Double(n)
                    return lower + (upper - lower) * max(0, min(1, fraction))
                }
                seen += n
            }
            return S3Metrics.bounds.last
        }
    }

    package func snapshot() -> Snapshot {
        var s = Snapshot()
        for (_, op) in operations.withLock({ $0 }) {
            s.requests += op.count
            for i in 0..<5 { s.byClass[i] += op.byClass[i] }
            for i in 0..<op.buckets.count { s.histogram[i] += op.buckets[i] }
        }
        s.bytesIn = bytesIn.load(ordering: .relaxed)
        s.bytesOut = bytesOut.load(ordering: .relaxed)
        s.inFlight = inFlight.load(ordering: .relaxed)
        return s
    }

    /// The metrics in Prometheus text exposition format; `extra` adds gauges measured at scrape time.
    package func render(extra: [(name: String, help: String, type: String, value: Double)] = []) -> String {
        var out = ""
        func header(_ name: String, _ help: String, _ type: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        func number(_ v: Double) -> String {
            v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
        }
        let ops = operations.withLock { $0 }.sorted { $0.key < $1.key }
        header("maxiofs_build_info", "The running build (always 1).", "gauge")
        out += "maxiofs_build_info{version=\"\(MaxIOVersion.string)\"} 1\n"
        header("maxiofs_s3_requests_total", "S3 requests by operation and status class.", "counter")
        for (op, s) in ops {
            for (i, n) in s.byClass.enumerated() where n > 0 {
                out += "maxiofs_s3_requests_total{operation=\"\(op)\",status_class=\"\(i + 1)xx\"} \(n)\n"
            }
        }
        header("maxiofs_s3_request_duration_seconds", "Time to the response head, by S3 operation.", "histogram")
        for (op, s) in ops {
            var cumulative: UInt64 = 0
            for (i, bound) in Self.bounds.enumerated() {
                cumulative += s.buckets[i]
                out += "maxiofs_s3_request_duration_seconds_bucket{operation=\"\(op)\",le=\"\(bound)\"} \(cumulative)\n"
            }
            cumulative += s.buckets[Self.bounds.count]
            out += "maxiofs_s3_request_duration_seconds_bucket{operation=\"\(op)\",le=\"+Inf\"} \(cumulative)\n"
            out += "maxiofs_s3_request_duration_seconds_sum{operation=\"\(op)\"} \(s.seconds)\n"
            out += "maxiofs_s3_request_duration_seconds_count{operation=\"\(op)\"} \(s.count)\n"
        }
        header("maxiofs_s3_requests_in_flight", "S3 requests being answered.", "gauge")
        out += "maxiofs_s3_requests_in_flight \(inFlight.load(ordering: .relaxed))\n"
        header("maxiofs_s3_received_bytes_total", "Request body bytes declared by S3 requests.", "counter")
        out += "maxiofs_s3_received_bytes_total \(bytesIn.load(ordering: .relaxed))\n"
        header("maxiofs_s3_sent_bytes_total", "Response body bytes of S3 answers.", "counter")
        out += "maxiofs_s3_sent_bytes_total \(bytesOut.load(ordering: .relaxed))\n"
        header("maxiofs_uptime_seconds", "Seconds since the server started.", "gauge")
        out += "maxiofs_uptime_seconds \(number(Date().timeIntervalSince(started).rounded()))\n"
        for e in extra {
            header(e.name, e.help, e.type)
            out += "\(e.name) \(number(e.value))\n"
        }
        return out
    }
}
