import Foundation
import GRDB
import MaxIOStorage

/// A blob the catalog refers to, and by what.
package struct BlobReference: Sendable {
    package var blobID: String
    package var size: Int64
    /// `bucket/key`, `bucket/key (version V)`, `bucket/key part N` or `upload U part N of bucket/key`.
    package var owner: String
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
                    SELECT bucket, key, version_id, size, blob_id FROM objects WHERE parts = 0 AND delete_marker = 0
                    UNION ALL SELECT bucket, key, version_id, size, blob_id FROM object_versions
                        WHERE parts = 0 AND delete_marker = 0
                    """)
            while let row = try current.next() {
                let version: String = row["version_id"]
                let name = "\(row["bucket"] as String)/\(key(row))" + (version.isEmpty ? "" : " (version \(version))")
                out.append(BlobReference(blobID: row["blob_id"], size: row["size"], owner: name))
            }
            // Parts of completed multipart objects: the manifest is the object's (or version's) blob id.
            let parts = try Row.fetchCursor(
                db,
                sql: """
                    SELECT p.blob_id, p.size, p.number, o.bucket, o.key FROM object_parts p
                    JOIN (SELECT bucket, key, blob_id FROM objects WHERE parts > 0
                          UNION ALL SELECT bucket, key, blob_id FROM object_versions WHERE parts > 0) o
                      ON o.blob_id = p.manifest
                    """)
            while let row = try parts.next() {
                out.append(
                    BlobReference(
                        blobID: row["blob_id"], size: row["size"],
                        owner: "\(row["bucket"] as String)/\(key(row)) part \(row["number"] as Int64)"))
            }
            let uploads = try Row.fetchCursor(
                db,
                sql: """
                    SELECT p.blob_id, p.size, p.number, p.upload_id, u.bucket, u.key FROM upload_parts p
                    JOIN uploads u ON u.upload_id = p.upload_id
                    """)
            while let row = try uploads.next() {
                out.append(
                    BlobReference(
                        blobID: row["blob_id"], size: row["size"],
                        owner:
                            "upload \(row["upload_id"] as String) part \(row["number"] as Int64) of \(row["bucket"] as String)/\(key(row))"
                    ))
            }
            return out
        }
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
