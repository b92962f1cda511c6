import Foundation
import GRDB
import MaxIOCore
import MaxIOIAM
import NIOCore
import Testing

@testable import MaxIOSQLite
@testable import MaxIOStorage

/// Usage kept by the catalog's triggers, and quotas that hold under concurrency.
@Suite struct QuotaTests {
    func usage(_ f: Fixture, _ bucket: String = "bucket") async throws -> (Int64, Int64) {
        let b = try #require(try await f.metadata.bucket(bucket))
        return (b.usedBytes, b.objectCount)
    }

    @Test func usageFollowsPutsOverwritesVersionsAndDeletes() async throws {
        let f = try Fixture()
        try await f.bucket()
        try await f.put("a", String(repeating: "x", count: 100))
        try await f.put("b", String(repeating: "x", count: 50))
        #expect(try await usage(f) == (150, 2))
        try await f.put("a", String(repeating: "y", count: 30))  // overwrite: the difference
        #expect(try await usage(f) == (80, 2))
        try await f.metadata.setVersioning(bucket: "bucket", state: .enabled)
        try await f.put("a", String(repeating: "z", count: 10))  // a new version keeps the old one
        #expect(try await usage(f) == (90, 3))
        _ = try await f.service.delete(
            bucket: "bucket", key: "a", versionID: nil, ifMatch: nil, bypassGovernance: false)
        #expect(try await usage(f) == (90, 3))  // a delete marker stores nothing
        let versions = try await f.metadata.versionsOfKey(bucket: "bucket", key: "a")
        for v in versions {
            _ = try await f.service.delete(
                bucket: "bucket", key: "a", versionID: VersionID.display(v.versionID), ifMatch: nil,
                bypassGovernance: false)
        }
        #expect(try await usage(f) == (50, 1))
    }

    @Test func multipartPartsCountUntilCompletionOrAbort() async throws {
        let f = try Fixture()
        try await f.bucket()
        let upload = try await f.service.createUpload(
            bucket: "bucket", key: "mp", owner: "o", meta: ObjectMeta(), checksum: nil, checksumType: nil)
        let part = [UInt8](repeating: 1, count: 1000)
        let stored = try await f.service.uploadPart(
            PartUpload(bucket: "bucket", key: "mp", uploadID: upload.uploadID, partNumber: 1, declaredSize: 1000),
            upload: upload, body: Buffers([ByteBuffer(bytes: part)]))
        #expect(try await usage(f) == (1000, 0))
        _ = try await f.service.completeUpload(
            bucket: "bucket", key: "mp", uploadID: upload.uploadID,
            parts: [CompletedPart(partNumber: 1, etag: stored.part.etag)], condition: nil)
        #expect(try await usage(f) == (1000, 1))
        let second = try await f.service.createUpload(
            bucket: "bucket", key: "mp2", owner: "o", meta: ObjectMeta(), checksum: nil, checksumType: nil)
        _ = try await f.service.uploadPart(
            PartUpload(bucket: "bucket", key: "mp2", uploadID: second.uploadID, partNumber: 1, declaredSize: 1000),
            upload: second, body: Buffers([ByteBuffer(bytes: part)]))
        #expect(try await usage(f) == (2000, 1))
        try await f.service.abortUpload(bucket: "bucket", key: "mp2", uploadID: second.uploadID)
        #expect(try await usage(f) == (1000, 1))
    }

    @Test func concurrentReservationsNeverPassTheQuota() async throws {
        let f = try Fixture()
        try await f.bucket()
        try await f.metadata.setBucketQuota(bucket: "bucket", maxBytes: 10_000, maxObjects: 0)
        // 100 writers of 1000 bytes each, at once: exactly 10 fit.
        let results = await withTaskGroup(of: Bool.self) { group in
            for i in 0..<100 {
                group.addTask {
                    do {
                        let r = try await f.service.reserve(
                            bucket: "bucket", replacing: "k\(i)", bytes: 1000, objects: 1)
                        var req = PutRequest(
                            bucket: "bucket", key: "k\(i)", meta: ObjectMeta(), declaredSize: 1000)
                        req.reservation = r
                        _ = try await f.service.put(
                            req, body: Buffers([ByteBuffer(bytes: [UInt8](repeating: 7, count: 1000))]))
                        return true
                    } catch StorageError.quotaExceeded {
                        return false
                    } catch {
                        Issue.record("unexpected \(error)")
                        return false
                    }
                }
            }
            var ok: [Bool] = []
            for await r in group { ok.append(r) }
            return ok
        }
        #expect(results.filter { $0 }.count == 10)
        #expect(try await usage(f) == (10_000, 10))
    }

    @Test func commitRechecksWithoutAReservation() async throws {
        let f = try Fixture()
        try await f.bucket()
        try await f.metadata.setBucketQuota(bucket: "bucket", maxBytes: 100, maxObjects: 2)
        try await f.put("a", String(repeating: "x", count: 60))
        await #expect(throws: StorageError.self) { try await f.put("b", String(repeating: "x", count: 41)) }
        try await f.put("b", String(repeating: "x", count: 40))
        // An overwrite that shrinks always fits; a third object does not.
        try await f.put("a", String(repeating: "x", count: 10))
        await #expect(throws: StorageError.self) { try await f.put("c", "x") }
        #expect(try await usage(f) == (50, 2))
        // A live reservation counts against others.
        let r = try await f.service.reserve(bucket: "bucket", bytes: 45, objects: 0)
        #expect(r != nil)
        await #expect(throws: StorageError.self) { try await f.put("a", String(repeating: "x", count: 20)) }
        await f.service.release(r)
        try await f.put("a", String(repeating: "x", count: 20))
    }

    @Test func tenantQuotaSpansItsBuckets() async throws {
        let f = try Fixture()
        try await f.metadata.createTenant(TenantRecord(id: "t1", name: "t1", maxStorageBytes: 100, maxBuckets: 2))
        for name in ["one", "two"] {
            var b = BucketRecord(name: name, owner: "o", region: "us-east-1", createdAt: Date())
            b.tenant = "t1"
            try await f.metadata.createBucket(b)
        }
        var third = BucketRecord(name: "three", owner: "o", region: "us-east-1", createdAt: Date())
        third.tenant = "t1"
        await #expect(throws: StorageError.tooManyBuckets) { try await f.metadata.createBucket(third) }
        try await f.put("a", String(repeating: "x", count: 70), bucket: "one")
        await #expect(throws: StorageError.self) {
            try await f.put("a", String(repeating: "x", count: 31), bucket: "two")
        }
        try await f.put("a", String(repeating: "x", count: 30), bucket: "two")
        #expect(try await f.metadata.tenantUsage(id: "t1").bytes == 100)
    }
}

/// A catalog written by a release before tenants (migrations up to v7) opens with its usage counted.
@Suite struct IAMMigrationTests {
    @Test func usageOfAnOlderCatalogIsCountedByTheMigration() async throws {
        let dir = NSTemporaryDirectory() + "maxiofs-migrate-" + randomHexID(bytes: 6)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/meta.sqlite"
        do {
            let pool = try DatabasePool(path: path)
            try SQLiteMetadataStore.migrator.migrate(pool, upTo: "v7-catalog-info")
            try await pool.write { db in
                try db.execute(
                    sql:
                        "INSERT INTO buckets(name, owner, region, created_at, versioning) VALUES ('old', 'o', 'r', 0, 'Enabled')"
                )
                for (key, size, marker) in [("a", 100, 0), ("b", 50, 0), ("c", 0, 1)] {
                    try db.execute(
                        sql: """
                            INSERT INTO objects(bucket, key, size, etag, last_modified, storage_class, blob_id, meta,
                                parts, version_id, delete_marker, seq)
                            VALUES ('old', ?, ?, 'e', 0, 'STANDARD', 'x', x'01', 0, 'v', ?, 1)
                            """, arguments: [Data(key.utf8), size, marker])
                }
                try db.execute(
                    sql: """
                        INSERT INTO object_versions(bucket, key, seq, version_id, size, etag, last_modified, storage_class,
                            blob_id, meta, parts, delete_marker)
                        VALUES ('old', ?, 0, 'v0', 25, 'e', 0, 'STANDARD', 'y', x'01', 0, 0)
                        """, arguments: [Data("a".utf8)])
                try db.execute(
                    sql: """
                        INSERT INTO uploads(upload_id, bucket, key, initiated, owner, meta) VALUES ('u1', 'old', ?, 0, 'o', x'01')
                        """, arguments: [Data("m".utf8)])
                try db.execute(
                    sql: """
                        INSERT INTO upload_parts(upload_id, number, size, etag, last_modified, blob_id)
                        VALUES ('u1', 1, 7, 'e', 0, 'z')
                        """)
            }
        }
        let store = try SQLiteMetadataStore(path: path, durable: false)
        let b = try #require(try await store.bucket("old"))
        #expect(b.usedBytes == 182)  // 100 + 50 + 25 + 7 (the part of the upload in progress)
        #expect(b.objectCount == 3)  // the delete marker is not an object
        #expect(b.tenant == "")
        #expect(b.ownership == "BucketOwnerEnforced")
        // And the triggers keep it from now on.
        _ = try await store.deleteObject(bucket: "old", key: "b", versionID: "v", ifMatch: nil, bypassGovernance: false)
        #expect(try await store.bucket("old")?.usedBytes == 132)
    }
}
