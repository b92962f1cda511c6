import Foundation
import GRDB
import MaxIOCore
import MaxIOStorage

/// The catalog side of lifecycle: configurations and the bounded scans the lifecycle pass makes.
extension SQLiteMetadataStore {
    package func setLifecycle(bucket: String, rules: [LifecycleRule]?) async throws {
        let data = try rules.map { try JSONEncoder().encode($0) }
        try await pool.write { db in
            _ = try Self.versioning(db, bucket)
            try db.execute(sql: "UPDATE buckets SET lifecycle = ? WHERE name = ?", arguments: [data, bucket])
        }
    }

    package func lifecycleConfigurations() async throws -> [(bucket: String, rules: [LifecycleRule])] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT name, lifecycle FROM buckets WHERE lifecycle IS NOT NULL ORDER BY name")
                .compactMap { row in
                    guard let data = row["lifecycle"] as Data?,
                        let rules = try? JSONDecoder().decode([LifecycleRule].self, from: data)
                    else { return nil }
                    return (row["name"], rules)
                }
        }
    }

    package func scanLatest(bucket: String, after: String?, limit: Int) async throws -> [ObjectRecord] {
        try await pool.read { db in
            _ = try Self.versioning(db, bucket)
            return try Row.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM objects WHERE bucket = ? AND key > ? ORDER BY key LIMIT ?"),
                arguments: [bucket, Data((after ?? "").utf8), limit]
            ).map { try self.objectRecord($0, bucket: bucket) }
        }
    }

    package func keysWithOlderVersions(bucket: String, after: String?, limit: Int) async throws -> [String] {
        try await pool.read { db in
            _ = try Self.versioning(db, bucket)
            return try Data.fetchAll(
                db.cachedStatement(
                    sql: "SELECT DISTINCT key FROM object_versions WHERE bucket = ? AND key > ? ORDER BY key LIMIT ?"),
                arguments: [bucket, Data((after ?? "").utf8), limit]
            ).map { String(decoding: $0, as: UTF8.self) }
        }
    }

    package func versionsOfKey(bucket: String, key: String) async throws -> [ObjectRecord] {
        try await pool.read { db in
            _ = try Self.versioning(db, bucket)
            var out: [ObjectRecord] = []
            if let latest = try self.fetchObject(db, bucket: bucket, key: key) { out.append(latest) }
            out += try Row.fetchAll(
                db.cachedStatement(
                    sql: "SELECT * FROM object_versions WHERE bucket = ? AND key = ? ORDER BY seq DESC"),
                arguments: [bucket, Data(key.utf8)]
            ).map { try self.objectRecord($0, bucket: bucket) }
            return out
        }
    }
}
