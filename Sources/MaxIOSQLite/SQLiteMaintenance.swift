import Foundation
import GRDB
import MaxIOStorage

/// A blob the catalog refers to, and by what.
package struct BlobReference: Sendable {
    package var blobID: String
    package var size: Int64
    /// `bucket/key`, `bucket/key (version V)`, `bucket/key part N` or `upload U part N of bucket/key`.
    package var owner: String
    /// Stored compressed: its size on disk is not predictable from `size`.
    package var compressed = false
}

/// Totals for `maxiofs admin info` and the dashboard.
package struct CatalogCounts: Sendable, Equatable {
    package var buckets: Int64 = 0
    package var objects: Int64 = 0
    package var bytes: Int64 = 0
    package var uploads: Int64 = 0
    package var tenants: Int64 = 0
    package var users: Int64 = 0
    package var accessKeys: Int64 = 0
}

extension SQLiteMetadataStore {
    /// Every blob the catalog refers to, with the size it must have.
    package func blobReferences() async throws -> [BlobReference] {
        try await pool.read { db in
            var out: [BlobReference] = []
            func key(_ row: Row, _ column: String = "key") -> String {
                let data: Data = row[column]
                return String(decoding: data, as: UTF8.self)
            }
            let current = try Row.fetchCursor(
                db,
                sql: """
                    SELECT bucket, key, version_id, size, blob_id, meta FROM objects WHERE parts = 0 AND delete_marker = 0
                    UNION ALL SELECT bucket, key, version_id, size, blob_id, meta FROM object_versions
                        WHERE parts = 0 AND delete_marker = 0
                    """)
            while let row = try current.next() {
                let version: String = row["version_id"]
                let name = "\(row["bucket"] as String)/\(key(row))" + (version.isEmpty ? "" : " (version \(version))")
                var r = BlobReference(blobID: row["blob_id"], size: row["size"], owner: name)
                r.compressed = Self.isCompressed(row)
                out.append(r)
            }
            // Parts of completed multipart objects: the manifest is the object's (or version's) blob id.
            let parts = try Row.fetchCursor(
                db,
                sql: """
                    SELECT p.blob_id, p.size, p.number, o.bucket, o.key, o.meta FROM object_parts p
                    JOIN (SELECT bucket, key, blob_id, meta FROM objects WHERE parts > 0
                          UNION ALL SELECT bucket, key, blob_id, meta FROM object_versions WHERE parts > 0) o
                      ON o.blob_id = p.manifest
                    """)
            while let row = try parts.next() {
                var r = BlobReference(
                    blobID: row["blob_id"], size: row["size"],
                    owner: "\(row["bucket"] as String)/\(key(row)) part \(row["number"] as Int64)")
                r.compressed = Self.isCompressed(row)
                out.append(r)
            }
            let uploads = try Row.fetchCursor(
                db,
                sql: """
                    SELECT p.blob_id, p.size, p.number, p.upload_id, u.bucket, u.key, u.meta FROM upload_parts p
                    JOIN uploads u ON u.upload_id = p.upload_id
                    """)
            while let row = try uploads.next() {
                var r = BlobReference(
                    blobID: row["blob_id"], size: row["size"],
                    owner:
                        "upload \(row["upload_id"] as String) part \(row["number"] as Int64) of \(row["bucket"] as String)/\(key(row))"
                )
                r.compressed = Self.isCompressed(row)
                out.append(r)
            }
            return out
        }
    }

    /// Whether a row's `meta` says its blobs are stored compressed.
    static func isCompressed(_ row: Row) -> Bool {
        guard let data = row["meta"] as Data? else { return false }
        return ObjectMeta(encoded: data)?.compressed ?? false
    }

    /// SQLite's own consistency check of the catalog file: empty when it is sound.
    package func integrityProblems() async throws -> [String] {
        try await pool.read { db in
            let lines = try String.fetchAll(db, sql: "PRAGMA integrity_check")
            return lines == ["ok"] ? [] : lines
        }
    }

    /// A consistent copy of the catalog, taken while the server may be writing (SQLite's online backup).
    package func backup(to path: String) async throws {
        let target = try DatabaseQueue(path: path)
        try pool.backup(to: target)
        try target.close()
    }

    package func catalogCounts() async throws -> CatalogCounts {
        try await pool.read { db in
            var c = CatalogCounts()
            if let row = try Row.fetchOne(
                db,
                sql:
                    "SELECT COUNT(*) AS n, COALESCE(SUM(object_count), 0) AS o, COALESCE(SUM(used_bytes), 0) AS b FROM buckets"
            ) {
                c.buckets = row["n"]
                c.objects = row["o"]
                c.bytes = row["b"]
            }
            c.uploads = try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM uploads") ?? 0
            c.tenants = try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM tenants") ?? 0
            c.users = try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM users") ?? 0
            c.accessKeys = try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM access_keys") ?? 0
            return c
        }
    }
}

/// One bucket's usage, for the per-bucket and per-tenant gauges.
package struct BucketUsage: Sendable, Equatable {
    package var bucket: String
    /// The owning tenant's name, or "" for buckets of global users.
    package var tenant: String
    package var bytes: Int64
    package var objects: Int64
    package var maxBytes: Int64
}

/// One tenant's quota figures.
package struct TenantGauge: Sendable, Equatable {
    package var tenant: String
    package var bytes: Int64
    package var objects: Int64
    package var buckets: Int64
    package var maxBytes: Int64
    package var maxBuckets: Int64
}

extension SQLiteMetadataStore {
    /// Every bucket's usage, largest first, at most `limit`.
    package func usageByBucket(limit: Int) async throws -> [BucketUsage] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT b.name, COALESCE(t.name, '') AS tenant, b.used_bytes, b.object_count, b.max_bytes
                    FROM buckets b LEFT JOIN tenants t ON t.id = b.tenant
                    ORDER BY b.used_bytes DESC, b.name LIMIT ?
                    """, arguments: [limit]
            ).map {
                BucketUsage(
                    bucket: $0["name"], tenant: $0["tenant"], bytes: $0["used_bytes"], objects: $0["object_count"],
                    maxBytes: $0["max_bytes"])
            }
        }
    }

    package func usageByTenant() async throws -> [TenantGauge] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT t.name, t.max_storage_bytes, t.max_buckets,
                        COALESCE(SUM(b.used_bytes), 0) AS bytes, COALESCE(SUM(b.object_count), 0) AS objects,
                        COUNT(b.name) AS buckets
                    FROM tenants t LEFT JOIN buckets b ON b.tenant = t.id
                    GROUP BY t.id ORDER BY t.name
                    """
            ).map {
                TenantGauge(
                    tenant: $0["name"], bytes: $0["bytes"], objects: $0["objects"], buckets: $0["buckets"],
                    maxBytes: $0["max_storage_bytes"], maxBuckets: $0["max_buckets"])
            }
        }
    }
}

extension SQLiteMetadataStore: MetricsHistoryStore {
    static func migrateMetricsHistory(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE metrics_history(
                    time_ms INTEGER PRIMARY KEY,
                    seconds REAL NOT NULL,
                    requests INTEGER NOT NULL,
                    errors_4xx INTEGER NOT NULL,
                    errors_5xx INTEGER NOT NULL,
                    bytes_in INTEGER NOT NULL,
                    bytes_out INTEGER NOT NULL,
                    p50 REAL, p95 REAL, p99 REAL,
                    in_flight INTEGER NOT NULL,
                    storage_bytes INTEGER NOT NULL,
                    objects INTEGER NOT NULL);
                """)
    }

    package func appendSample(_ s: MetricsSample) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO metrics_history(time_ms, seconds, requests, errors_4xx, errors_5xx,
                        bytes_in, bytes_out, p50, p95, p99, in_flight, storage_bytes, objects)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    Self.milliseconds(s.time), s.seconds, s.requests, s.errors4xx, s.errors5xx, s.bytesIn,
                    s.bytesOut, s.p50, s.p95, s.p99, s.inFlight, s.storageBytes, s.objects,
                ])
        }
    }

    package func samples(since: Date, until: Date, limit: Int) async throws -> [MetricsSample] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM (SELECT * FROM metrics_history WHERE time_ms >= ? AND time_ms < ?
                        ORDER BY time_ms DESC LIMIT ?) ORDER BY time_ms
                    """, arguments: [Self.milliseconds(since), Self.milliseconds(until), max(1, limit)]
            ).map { row in
                MetricsSample(
                    time: Date(timeIntervalSince1970: Double(row["time_ms"] as Int64) / 1000), seconds: row["seconds"],
                    requests: row["requests"], errors4xx: row["errors_4xx"], errors5xx: row["errors_5xx"],
                    bytesIn: row["bytes_in"], bytesOut: row["bytes_out"], p50: row["p50"], p95: row["p95"],
                    p99: row["p99"], inFlight: row["in_flight"], storageBytes: row["storage_bytes"],
                    objects: row["objects"])
            }
        }
    }

    package func pruneSamples(before date: Date) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM metrics_history WHERE time_ms < ?", arguments: [Self.milliseconds(date)])
            return db.changesCount
        }
    }
}
