import Foundation
import Logging
import MaxIOCore
import MaxIOS3API
import MaxIOSQLite
import MaxIOStorage
import ServiceLifecycle
import Synchronization

/// Background work the server did, for `/metrics`.
final class MaintenanceStats: Sendable {
    struct Counts: Sendable {
        var lifecyclePasses: UInt64 = 0
        var lifecycleFailures: UInt64 = 0
        var expired: UInt64 = 0
        var removedVersions: UInt64 = 0
        var removedDeleteMarkers: UInt64 = 0
        var abortedUploads: UInt64 = 0
        var lastLifecyclePass: Double = 0
        var startupTemporaryRemoved: UInt64 = 0
        var startupOrphansRemoved: UInt64 = 0
    }
    private let counts = Mutex(Counts())

    func update(_ f: (inout Counts) -> Void) { counts.withLock { f(&$0) } }
    var current: Counts { counts.withLock { $0 } }

    func record(_ r: LifecycleReport) {
        update {
            $0.lifecyclePasses += 1
            $0.expired += UInt64(r.expired)
            $0.removedVersions += UInt64(r.removedVersions)
            $0.removedDeleteMarkers += UInt64(r.removedDeleteMarkers)
            $0.abortedUploads += UInt64(r.abortedUploads)
            $0.lastLifecyclePass = Date().timeIntervalSince1970
        }
    }
}

/// Prometheus text exposition, one family at a time.
struct PrometheusText {
    var out = ""

    mutating func family(_ name: String, _ help: String, _ type: String) {
        out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    mutating func sample(_ name: String, _ labels: [(String, String)] = [], _ value: Double) {
        out += name
        if !labels.isEmpty {
            out += "{" + labels.map { "\($0.0)=\"\(Self.escape($0.1))\"" }.joined(separator: ",") + "}"
        }
        out += " " + (value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)) + "\n"
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}

enum ServerMetrics {
    /// At most this many buckets get their own series (the largest); the rest are summed per tenant only.
    static let bucketSeriesLimit = 1000

    /// Gauges read from the catalog at scrape time, and the background work counters.
    static func render(metadata: SQLiteMetadataStore, stats: MaintenanceStats) async -> String {
        var p = PrometheusText()
        if let buckets = try? await metadata.usageByBucket(limit: bucketSeriesLimit) {
            p.family("maxiofs_bucket_bytes", "Bytes stored in a bucket (objects, versions and upload parts).", "gauge")
            for b in buckets {
                p.sample("maxiofs_bucket_bytes", [("bucket", b.bucket), ("tenant", b.tenant)], Double(b.bytes))
            }
            p.family("maxiofs_bucket_objects", "Objects in a bucket (versions included, delete markers not).", "gauge")
            for b in buckets {
                p.sample("maxiofs_bucket_objects", [("bucket", b.bucket), ("tenant", b.tenant)], Double(b.objects))
            }
            p.family("maxiofs_bucket_quota_bytes", "A bucket's storage quota; 0 is none.", "gauge")
            for b in buckets {
                p.sample(
                    "maxiofs_bucket_quota_bytes", [("bucket", b.bucket), ("tenant", b.tenant)], Double(b.maxBytes))
            }
        }
        if let tenants = try? await metadata.usageByTenant() {
            p.family("maxiofs_tenant_bytes", "Bytes stored in a tenant's buckets.", "gauge")
            for t in tenants { p.sample("maxiofs_tenant_bytes", [("tenant", t.tenant)], Double(t.bytes)) }
            p.family("maxiofs_tenant_objects", "Objects in a tenant's buckets.", "gauge")
            for t in tenants { p.sample("maxiofs_tenant_objects", [("tenant", t.tenant)], Double(t.objects)) }
            p.family("maxiofs_tenant_buckets", "A tenant's buckets.", "gauge")
            for t in tenants { p.sample("maxiofs_tenant_buckets", [("tenant", t.tenant)], Double(t.buckets)) }
            p.family("maxiofs_tenant_quota_bytes", "A tenant's storage quota; 0 is none.", "gauge")
            for t in tenants { p.sample("maxiofs_tenant_quota_bytes", [("tenant", t.tenant)], Double(t.maxBytes)) }
            p.family("maxiofs_tenant_quota_buckets", "A tenant's bucket quota; 0 is none.", "gauge")
            for t in tenants { p.sample("maxiofs_tenant_quota_buckets", [("tenant", t.tenant)], Double(t.maxBuckets)) }
        }
        if let c = try? await metadata.catalogCounts() {
            p.family("maxiofs_stored_bytes", "Bytes stored, all buckets.", "gauge")
            p.sample("maxiofs_stored_bytes", [], Double(c.bytes))
            p.family("maxiofs_objects", "Objects stored, all buckets.", "gauge")
            p.sample("maxiofs_objects", [], Double(c.objects))
            p.family("maxiofs_buckets", "Buckets.", "gauge")
            p.sample("maxiofs_buckets", [], Double(c.buckets))
            p.family("maxiofs_multipart_uploads", "Multipart uploads in progress.", "gauge")
            p.sample("maxiofs_multipart_uploads", [], Double(c.uploads))
        }
        let s = stats.current
        p.family("maxiofs_lifecycle_passes_total", "Background lifecycle passes completed.", "counter")
        p.sample("maxiofs_lifecycle_passes_total", [], Double(s.lifecyclePasses))
        p.family("maxiofs_lifecycle_failures_total", "Background lifecycle passes that failed.", "counter")
        p.sample("maxiofs_lifecycle_failures_total", [], Double(s.lifecycleFailures))
        p.family("maxiofs_lifecycle_actions_total", "What lifecycle passes did, by action.", "counter")
        p.sample("maxiofs_lifecycle_actions_total", [("action", "expire")], Double(s.expired))
        p.sample("maxiofs_lifecycle_actions_total", [("action", "remove_version")], Double(s.removedVersions))
        p.sample(
            "maxiofs_lifecycle_actions_total", [("action", "remove_delete_marker")], Double(s.removedDeleteMarkers))
        p.sample("maxiofs_lifecycle_actions_total", [("action", "abort_upload")], Double(s.abortedUploads))
        p.family(
            "maxiofs_lifecycle_last_pass_timestamp_seconds", "When the last lifecycle pass ended (0: none yet).",
            "gauge")
        p.sample("maxiofs_lifecycle_last_pass_timestamp_seconds", [], s.lastLifecyclePass.rounded())
        p.family("maxiofs_startup_removed_files", "Files the start-up clean-up removed, by kind.", "gauge")
        p.sample("maxiofs_startup_removed_files", [("kind", "temporary")], Double(s.startupTemporaryRemoved))
        p.sample("maxiofs_startup_removed_files", [("kind", "orphan_blob")], Double(s.startupOrphansRemoved))
        return p.out
    }
}

/// Samples the request metrics and the catalog totals every `interval` seconds into the metrics history,
/// and removes samples older than the retention.
struct MetricsSampler: Service, CustomStringConvertible {
    var description: String { "MetricsSampler" }
    let metrics: S3Metrics
    let metadata: SQLiteMetadataStore
    let interval: TimeInterval
    let retention: TimeInterval
    let logger: Logger

    func run() async throws {
        var previous = metrics.snapshot()
        var previousTime = ContinuousClock.now
        var pruned = Date.distantPast
        while true {
            do {
                try await cancelWhenGracefulShutdown {
                    try await Task.sleep(nanoseconds: UInt64(interval * 1_000_000_000))
                }
            } catch {
                return
            }
            if Task.isCancelled || Task.isShuttingDownGracefully { return }
            let now = metrics.snapshot()
            let elapsed = ContinuousClock.now - previousTime
            previousTime = ContinuousClock.now
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let counts = try? await metadata.catalogCounts()
            let sample = MetricsSample(
                time: Date(), seconds: seconds, requests: Int64(now.requests &- previous.requests),
                errors4xx: Int64(now.byClass[3] &- previous.byClass[3]),
                errors5xx: Int64(now.byClass[4] &- previous.byClass[4]),
                bytesIn: Int64(now.bytesIn &- previous.bytesIn), bytesOut: Int64(now.bytesOut &- previous.bytesOut),
                p50: now.quantile(0.5, since: previous), p95: now.quantile(0.95, since: previous),
                p99: now.quantile(0.99, since: previous), inFlight: Int64(now.inFlight),
                storageBytes: counts?.bytes ?? 0, objects: counts?.objects ?? 0)
            previous = now
            do {
                try await metadata.appendSample(sample)
                if Date().timeIntervalSince(pruned) > 3600 {
                    _ = try await metadata.pruneSamples(before: Date().addingTimeInterval(-retention))
                    pruned = Date()
                }
            } catch {
                logger.error("could not record a metrics sample", metadata: ["error": "\(error)"])
            }
        }
    }
}
