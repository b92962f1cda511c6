import Foundation
import Hummingbird
import MaxIOCore
import MaxIOIAM
import MaxIOStorage

extension ConsoleAPI {
    /// `GET /api/v1/metrics/history?since&until&step`: the sampled series for the dashboards, oldest first.
    /// `step` (seconds) merges samples into buckets of that width: counts and bytes add up, the latency
    /// quantiles are the highest of the merged samples, storage is the last. Global administrators only.
    func registerMetrics(_ api: RouterGroup<ConsoleRequestContext>) {
        guard let history else { return }
        authed(api, .get, "metrics/history") { request, _, actor, _ in
            guard actor.isGlobalAdmin else { throw IAMError.forbidden("Only global administrators read metrics.") }
            let q = request.uri.queryParameters
            func date(_ name: String, _ fallback: Date) throws -> Date {
                guard let v = q.get(name) else { return fallback }
                guard let d = WireDate.parseISO8601(v) else {
                    throw APIError(
                        status: .badRequest, code: "InvalidArgument", message: "\(name) is an ISO 8601 time.")
                }
                return d
            }
            let until = try date("until", Date().addingTimeInterval(1))
            let since = try date("since", until.addingTimeInterval(-3600))
            guard since < until else {
                throw APIError(status: .badRequest, code: "InvalidArgument", message: "since must be before until.")
            }
            var step: Double = 0
            if let s = q.get("step") {
                guard let d = Double(s), d >= 1, d <= 86400 * 31 else {
                    throw APIError(
                        status: .badRequest, code: "InvalidArgument", message: "step is seconds from 1 to 2678400.")
                }
                step = d
            }
            let samples = try await history.samples(since: since, until: until, limit: 100_000)
            let points = step > 0 ? Self.merge(samples, step: step) : samples
            return [
                "since": WireDate.iso8601(since), "until": WireDate.iso8601(until), "step": step,
                "points": points.map(Self.pointJSON),
            ] as JSON
        }
    }

    static func merge(_ samples: [MetricsSample], step: Double) -> [MetricsSample] {
        var out: [MetricsSample] = []
        var current: MetricsSample?
        var slot = -1.0
        for s in samples {
            let k = (s.time.timeIntervalSince1970 / step).rounded(.down)
            if var c = current, k == slot {
                c.time = s.time
                c.seconds += s.seconds
                c.requests += s.requests
                c.errors4xx += s.errors4xx
                c.errors5xx += s.errors5xx
                c.bytesIn += s.bytesIn
                c.bytesOut += s.bytesOut
                c.p50 = [c.p50, s.p50].compactMap { $0 }.max()
                c.p95 = [c.p95, s.p95].compactMap { $0 }.max()
                c.p99 = [c.p99, s.p99].compactMap { $0 }.max()
                c.inFlight = max(c.inFlight, s.inFlight)
                c.storageBytes = s.storageBytes
                c.objects = s.objects
                current = c
            } else {
                if let c = current { out.append(c) }
                current = s
                slot = k
            }
        }
        if let c = current { out.append(c) }
        return out
    }

    static func pointJSON(_ s: MetricsSample) -> JSON {
        func opt(_ v: Double?) -> any Sendable { v ?? NSNull() }
        let per = s.seconds > 0 ? 1 / s.seconds : 0
        return [
            "time": WireDate.iso8601(s.time), "seconds": s.seconds, "requests": s.requests,
            "requests_per_second": Double(s.requests) * per, "errors_4xx": s.errors4xx, "errors_5xx": s.errors5xx,
            "bytes_in": s.bytesIn, "bytes_out": s.bytesOut, "bytes_in_per_second": Double(s.bytesIn) * per,
            "bytes_out_per_second": Double(s.bytesOut) * per, "latency_p50": opt(s.p50), "latency_p95": opt(s.p95),
            "latency_p99": opt(s.p99), "in_flight": s.inFlight, "storage_bytes": s.storageBytes, "objects": s.objects,
        ]
    }
}
